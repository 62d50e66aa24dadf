/* Stand-in for lwIP's lwip/sys.h (see sockets.h here). */
#ifndef LG_STUB_LWIP_SYS_H
#define LG_STUB_LWIP_SYS_H
#include "lwip/sockets.h"
typedef void *sys_mutex_t;
typedef void *sys_thread_t;
typedef void (*lwip_thread_fn)(void *arg);
typedef int8_t err_t;
#define ERR_OK 0
err_t sys_mutex_new(sys_mutex_t *mutex);
void sys_mutex_lock(sys_mutex_t *mutex);
void sys_mutex_unlock(sys_mutex_t *mutex);
void sys_mutex_free(sys_mutex_t *mutex);
sys_thread_t sys_thread_new(const char *name, lwip_thread_fn thread, void *arg, int stacksize,
                            int prio);
u32_t sys_now(void);
#endif
