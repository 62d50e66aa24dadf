/* A tiny JSON API: a fixed table of items, read and updated by id.
 *   GET  /items/:id<int>      {"id": 2, "name": "...", "count": 7}
 *   POST /items/:id<int>      body: a new name (text); answers the item
 *   GET  /items?min=3         items whose count is at least min
 * Try: curl -s localhost:8080/items/2; curl -s -d newname localhost:8080/items/2 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger.h"

typedef struct item {
    int id;
    char name[32];
    int count;
} item;

static item items[] = { { 1, "apple", 3 }, { 2, "pear", 7 }, { 3, "plum", 1 } };
#define NITEMS (int)(sizeof items / sizeof items[0])

static item *find(lg_req *req)
{
    lg_str id = lg_req_param(req, "id"); /* digits only: the route says <int> */
    int n = atoi(id.ptr);
    for (int i = 0; i < NITEMS; i++)
        if (items[i].id == n) return &items[i];
    return NULL;
}

static int item_json(const item *it, char *out, size_t cap)
{
    return snprintf(out, cap, "{\"id\": %d, \"name\": \"%s\", \"count\": %d}", it->id, it->name,
                    it->count);
}

static void send_json(lg_res *res, int status, const char *json, size_t len)
{
    lg_res_header(res, "Content-Type", "application/json");
    lg_res_send(res, status, json, len);
}

static void get_item(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    item *it = find(req);
    char json[128];
    if (!it) {
        send_json(res, 404, "{\"error\": \"no such item\"}", 25);
        return;
    }
    send_json(res, 200, json, (size_t)item_json(it, json, sizeof json));
}

static void set_item(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    item *it = find(req);
    lg_str body = lg_req_body(req); /* the whole body, buffered by the server */
    char json[128];
    if (!it) {
        send_json(res, 404, "{\"error\": \"no such item\"}", 25);
        return;
    }
    if (body.len == 0 || body.len >= sizeof it->name || memchr(body.ptr, '"', body.len)) {
        send_json(res, 400, "{\"error\": \"name: 1 to 31 characters, no quotes\"}", 47);
        return;
    }
    memcpy(it->name, body.ptr, body.len);
    it->name[body.len] = 0;
    send_json(res, 200, json, (size_t)item_json(it, json, sizeof json));
}

static void list_items(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str min = lg_req_query(req, "min"); /* decoded; ptr NULL when absent */
    int lo = min.ptr ? atoi(min.ptr) : 0;
    char json[512];
    size_t n = 0;
    json[n++] = '[';
    for (int i = 0; i < NITEMS; i++) {
        if (items[i].count < lo) continue;
        if (n > 1) json[n++] = ',';
        n += (size_t)item_json(&items[i], json + n, sizeof json - n);
    }
    json[n++] = ']';
    send_json(res, 200, json, n);
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 16, .max_body_bytes = 1024 });
    lg_route(srv, "GET", "/items/:id<int>", get_item, NULL);
    lg_route(srv, "POST", "/items/:id<int>", set_item, NULL);
    lg_route(srv, "GET", "/items", list_items, NULL);
    if (lg_server_listen(srv, "127.0.0.1:8080", 0) != LG_OK) return 1;
    printf("JSON API on http://127.0.0.1:8080/items\n");
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    return 0;
}
