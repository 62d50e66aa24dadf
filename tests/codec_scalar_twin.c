/*
 * linger's head parser once more, built with LG_NO_SIMD, with an lg_scalar_
 * prefix on its external names, so that one program holds both paths:
 * test_codec_vector compares them on every input it makes, and bench/parse
 * measures the scalar path microcontrollers take next to the vector one.
 * A new external name in these files shows up as a duplicate symbol at
 * link time, and belongs in the list below.
 */
#define LG_NO_SIMD 1

#define lg_char_class lg_scalar_char_class
#define lg_parse_request lg_scalar_parse_request
#define lg_parse_response lg_scalar_parse_response
#define lg_parse_trailers lg_scalar_parse_trailers
#define lg_http1_parse_trailer_fields lg_scalar_http1_parse_trailer_fields

#include "../src/http1_chars.c"
#include "../src/http1_parse.c"
