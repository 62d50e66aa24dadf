/*
 * examples/json_cjson.c's handlers through the test client: settings read,
 * replaced, and refused field by field (nothing stored then), a body that
 * is not JSON, another content type.
 */
#define JSON_CJSON_NO_MAIN
#include "../examples/json_cjson.c"

#include "test.h"

static lg_test_response r;

static int post(lg_test *t, const char *json, const char *type)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Content-Type: %s\r\n", type);
    lg_test_fetch(t, &(lg_test_request){ .target = "/config", .headers = hdr, .body = json,
                                         .body_len = strlen(json) }, &r);
    return r.status;
}

int main(void)
{
    lg_test *t = lg_test_new();
    lg_server *srv = lg_server_new(lg_test_loop(t), &(lg_server_config){ .no_date = 1 });
    json_cjson_routes(srv);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);

    lg_test_fetch(t, &(lg_test_request){ .target = "/config" }, &r);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR(r.body, "{\"name\":\"kitchen\",\"interval_s\":30,\"sensors\":[\"t1\"],\"enabled\":true}");
    CHECK_STR(lg_head_get(&r.head, "Content-Type"), "application/json");

    CHECK_EQ_INT(post(t, "{\"name\": \"hall \\\"A\\\"\", \"interval_s\": 5, \"sensors\": [\"a\", \"b\"], "
                         "\"enabled\": false}", "application/json; charset=utf-8"), 200);
    CHECK_STR(r.body, "{\"name\":\"hall \\\"A\\\"\",\"interval_s\":5,\"sensors\":[\"a\",\"b\"],\"enabled\":false}");
    lg_test_fetch(t, &(lg_test_request){ .target = "/config" }, &r);
    CHECK_STR(r.body, "{\"name\":\"hall \\\"A\\\"\",\"interval_s\":5,\"sensors\":[\"a\",\"b\"],\"enabled\":false}");

    static const struct {
        const char *json, *field;
    } bad[] = {
        { "{\"interval_s\": 5, \"sensors\": [], \"enabled\": true}", "name" },
        { "{\"name\": \"x\", \"interval_s\": 1.5, \"sensors\": [], \"enabled\": true}", "interval_s" },
        { "{\"name\": \"x\", \"interval_s\": 0, \"sensors\": [], \"enabled\": true}", "interval_s" },
        { "{\"name\": \"x\", \"interval_s\": 5, \"sensors\": [1], \"enabled\": true}", "sensors" },
        { "{\"name\": \"x\", \"interval_s\": 5, \"sensors\": [\"a\",\"b\",\"c\",\"d\",\"e\"], "
          "\"enabled\": true}", "sensors" },
        { "{\"name\": \"x\", \"interval_s\": 5, \"sensors\": [], \"enabled\": 1}", "enabled" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(post(t, bad[i].json, "application/json"), 400);
        char want[64];
        snprintf(want, sizeof want, "\"field\":\"%s\"}", bad[i].field);
        CHECK(strstr(r.body.ptr, want) != NULL);
    }
    CHECK_EQ_INT(post(t, "[1, 2", "application/json"), 400);
    CHECK_STR(r.body, "{\"error\":\"not a JSON object\",\"field\":null}");
    CHECK_EQ_INT(post(t, "{}", "text/plain"), 415);
    /* nothing of the refused ones was stored */
    lg_test_fetch(t, &(lg_test_request){ .target = "/config" }, &r);
    CHECK(strstr(r.body.ptr, "\"interval_s\":5") != NULL);

    lg_server_shutdown(srv, 0, NULL, NULL);
    for (int i = 0; i < 100; i++) lg_loop_run_once(lg_test_loop(t), 0);
    lg_server_free(srv);
    lg_test_free(t);
    TEST_MAIN_END();
}
