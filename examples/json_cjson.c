/* JSON in with Debian's cJSON (libcjson-dev), JSON out with linger's
 * writer (lg_json): a device's settings, read and replaced.
 *   GET  /config    {"name": "kitchen", "interval_s": 30, "sensors": ["t1"], "enabled": true}
 *   POST /config    the same shape (application/json); answers the stored settings,
 *                   or 400 {"error": "...", "field": "..."}, or 415 for another type
 * linger parses no JSON itself: parsing is the application's choice, and
 * cJSON is one a device often has already (ESP-IDF ships it).
 * Try: curl -s -H 'Content-Type: application/json' \
 *        -d '{"name":"hall","interval_s":5,"sensors":["a","b"],"enabled":false}' \
 *        localhost:8080/config */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "linger.h"

#define MAX_SENSORS 4

typedef struct config {
    char name[32];
    int interval_s;
    char sensors[MAX_SENSORS][16];
    int nsensors;
    int enabled;
} config;

static config current = { "kitchen", 30, { "t1" }, 1, 1 };

static void send_json(lg_res *res, int status, lg_writer *w)
{
    lg_res_header(res, "Content-Type", "application/json");
    lg_res_send(res, status, w->buf, w->len);
}

static void send_config(lg_res *res, int status, const config *c)
{
    char out[512];
    lg_writer w;
    lg_json j;
    lg_writer_init(&w, out, sizeof out);
    lg_json_init(&j, &w);
    lg_json_begin_object(&j);
    lg_json_key(&j, "name");
    lg_json_string(&j, c->name);
    lg_json_key(&j, "interval_s");
    lg_json_int(&j, c->interval_s);
    lg_json_key(&j, "sensors");
    lg_json_begin_array(&j);
    for (int i = 0; i < c->nsensors; i++) lg_json_string(&j, c->sensors[i]);
    lg_json_end_array(&j);
    lg_json_key(&j, "enabled");
    lg_json_bool(&j, c->enabled);
    lg_json_end_object(&j);
    if (lg_json_finish(&j) != LG_OK) { /* (512 bytes hold any config that passed the checks) */
        lg_res_error(res, 500, "config too large");
        return;
    }
    send_json(res, status, &w);
}

static void send_error(lg_res *res, const char *error, const char *field)
{
    char out[256];
    lg_writer w;
    lg_json j;
    lg_writer_init(&w, out, sizeof out);
    lg_json_init(&j, &w);
    lg_json_begin_object(&j);
    lg_json_key(&j, "error");
    lg_json_string(&j, error);
    lg_json_key(&j, "field");
    lg_json_string(&j, field); /* NULL: null */
    lg_json_end_object(&j);
    lg_json_finish(&j);
    send_json(res, 400, &w);
}

static void get_config(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    send_config(res, 200, &current);
}

/* Check every field before anything is stored: a bad request changes
 * nothing. Returns the field at fault, or NULL. */
static const char *parse_config(const cJSON *root, config *c, const char **why)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    const cJSON *interval = cJSON_GetObjectItemCaseSensitive(root, "interval_s");
    const cJSON *sensors = cJSON_GetObjectItemCaseSensitive(root, "sensors");
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(root, "enabled");
    memset(c, 0, sizeof *c);
    *why = "must be a string of 1 to 31 bytes";
    if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) >= sizeof c->name)
        return "name";
    strcpy(c->name, name->valuestring);
    *why = "must be a whole number from 1 to 86400";
    if (!cJSON_IsNumber(interval) || interval->valuedouble != (double)interval->valueint ||
        interval->valueint < 1 || interval->valueint > 86400)
        return "interval_s";
    c->interval_s = interval->valueint;
    *why = "must be an array of up to 4 strings of 1 to 15 bytes";
    if (!cJSON_IsArray(sensors) || cJSON_GetArraySize(sensors) > MAX_SENSORS) return "sensors";
    const cJSON *s;
    cJSON_ArrayForEach(s, sensors)
    {
        if (!cJSON_IsString(s) || !s->valuestring[0] || strlen(s->valuestring) >= sizeof c->sensors[0])
            return "sensors";
        strcpy(c->sensors[c->nsensors++], s->valuestring);
    }
    *why = "must be true or false";
    if (!cJSON_IsBool(enabled)) return "enabled";
    c->enabled = cJSON_IsTrue(enabled);
    return NULL;
}

static void set_config(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str type = lg_req_header(req, "Content-Type");
    if (!type.ptr || type.len < 16 || strncmp(type.ptr, "application/json", 16) != 0) {
        lg_res_error(res, 415, "send application/json");
        return;
    }
    lg_str body = lg_req_body(req); /* buffered by the server, up to max_body_bytes */
    cJSON *root = cJSON_ParseWithLength(body.ptr, body.len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        send_error(res, "not a JSON object", NULL);
        return;
    }
    config c;
    const char *why;
    const char *field = parse_config(root, &c, &why);
    cJSON_Delete(root);
    if (field) {
        send_error(res, why, field);
        return;
    }
    current = c;
    send_config(res, 200, &current);
}

/* The routes, for main and for a test (tests/test_example_cjson.c). */
void json_cjson_routes(lg_server *srv);
void json_cjson_routes(lg_server *srv)
{
    lg_route(srv, "GET", "/config", get_config, NULL);
    lg_route(srv, "POST", "/config", set_config, NULL);
}

#if !defined(JSON_CJSON_NO_MAIN)
int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 16, .max_body_bytes = 4096 });
    json_cjson_routes(srv);
    if (lg_server_listen(srv, "127.0.0.1:8080", 0) != LG_OK) return 1;
    printf("settings on http://127.0.0.1:8080/config\n");
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    return 0;
}
#endif
