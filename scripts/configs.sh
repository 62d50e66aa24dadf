# The build configurations linger publishes (include/linger_opts.h), one per
# line as NAME:OPTIONS. Sourced by scripts/size.sh (every one, for every
# target) and scripts/check.sh (the reduced ones, on the host, with tests).
# Each is a combination to test: add one only with a reason.
MIN="LG_NO_WEBSOCKET;LG_NO_MULTIPART;LG_NO_JSON;LG_NO_SHA256;LG_NO_AUTH;LG_NO_DIGEST;LG_NO_SESSION;LG_NO_TEST_CLIENT;LG_NO_TLS;LG_NO_FILES;LG_NO_CHUNKED_UPLOAD;LG_NO_IPV6;LG_NO_LOG;LG_NO_ERROR_STRINGS;LG_NO_THREADS;LG_NO_DATE;LG_MAX_LISTENERS=1;LG_MAX_HOOKS=1;LG_MAX_ERROR_HANDLERS=2;LG_MAX_PARAMS=4"
CONFIGS="full:
server:LG_NO_CLIENT
client:LG_NO_SERVER
min-server:LG_NO_CLIENT;$MIN
min-both:$MIN
min-client:LG_NO_SERVER;$MIN"
config_options() { # $1 = name
  echo "$CONFIGS" | sed -n "s/^$1://p"
}
