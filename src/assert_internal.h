/* LG_ASSERT: an invariant the code relies on, checked where it matters
 * (libuv's uv_close asserts the handle is not already closing: a comment
 * is a wish, an assertion a test). On with LG_ASSERTS (CMake's
 * LINGER_ASSERTS: the host builds with tests, which make check runs, and
 * Debug builds); off, and its condition not even evaluated, otherwise —
 * release, device and consumers' builds, which then need no abort(). A
 * failed one says where (on a hosted system) and aborts. Not part of the
 * API. */
#ifndef LG_ASSERT_INTERNAL_H
#define LG_ASSERT_INTERNAL_H

#if defined(LG_ASSERTS)
void lg__assert_failed(const char *file, int line, const char *what);
#define LG_ASSERT(cond) ((cond) ? (void)0 : lg__assert_failed(__FILE__, __LINE__, #cond))
#define LG_ASSERTS_ON 1
#else
#define LG_ASSERT(cond) ((void)0)
#define LG_ASSERTS_ON 0
#endif

#endif
