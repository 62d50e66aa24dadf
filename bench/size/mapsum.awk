# Sums the input sections an archive (-v lib=NAME.a) contributed to a
# linked program, from a GNU ld map file; prints "text data bss".
# .text* and .rodata* count as text (flash), .data* as data, .bss* and
# COMMON as bss. Plain POSIX awk (Debian's is mawk: no strtonum).
function hex(s,    i, c, v) {
  v = 0
  s = tolower(substr(s, 3))
  for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
  return v
}
/^Linker script and memory map/ { on = 1; next }
!on { next }
/^ [.A-Z]/ { sec = $1 }
index($0, lib "(") {
  size = 0
  for (i = 1; i < NF; i++) if ($i ~ /^0x/ && $(i + 1) ~ /^0x/) { size = hex($(i + 1)); break }
  if (sec ~ /^\.(text|rodata)/) t += size
  else if (sec ~ /^\.data/) d += size
  else if (sec ~ /^\.bss/ || sec == "COMMON") b += size
}
END { printf "%d %d %d\n", t + 0, d + 0, b + 0 }
