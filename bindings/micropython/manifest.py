# Freeze linger's Python side (the asyncio glue, microdot, aiohttp) into a
# firmware that has the _linger module: add to the board's manifest
#   include("<linger>/bindings/micropython/manifest.py")
# (and leave micropython-lib's aiohttp out of it: the names are the same).
module("linger.py", base_path="lib")
package("microdot", base_path="lib")
package("aiohttp", base_path="lib")
