/*
 * linger's head parser once more, built with LG_NO_SIMD, so that one bench
 * run measures the scalar path microcontrollers take next to the SIMD one.
 * Its external names get an lg_scalar_ prefix so that both link into one
 * program; a new external name in these files shows up as a duplicate
 * symbol at link time, and belongs in the list below.
 */
#define LG_NO_SIMD 1

#define lg_char_class lg_scalar_char_class
#define lg_parse_request lg_scalar_parse_request
#define lg_parse_response lg_scalar_parse_response
#define lg_parse_trailers lg_scalar_parse_trailers
#define lg_http1_parse_trailer_fields lg_scalar_http1_parse_trailer_fields

#include "../src/http1_chars.c"
#include "../src/http1_parse.c"
