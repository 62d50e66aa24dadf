/* Numeric socket addresses: parse "1.2.3.4:80" and "[::1]:80", format them
 * back. Portable (no inet_pton: lwIP builds lack it). IPv4 only with
 * LG_NO_IPV6. */
#include <string.h>

#include "http1_internal.h"
#include "linger.h"

static int parse_port(const char *s, uint16_t *port)
{
    uint32_t v = 0;
    if (!*s) return LG_ERR_ADDR_INVALID;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return LG_ERR_ADDR_INVALID;
        v = v * 10 + (uint32_t)(*s - '0');
        if (v > 65535) return LG_ERR_ADDR_INVALID;
    }
    *port = (uint16_t)v;
    return LG_OK;
}

static int parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        uint32_t v = 0;
        size_t digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (uint32_t)(s[i++] - '0');
            if (++digits > 3 || v > 255) return 0;
        }
        if (!digits) return 0;
        out[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= n || s[i] != '.') return 0;
            i++;
        }
    }
    return i == n;
}

#if !defined(LG_NO_IPV6)
static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* RFC 4291 2.2 text forms, including "::" and a trailing dotted IPv4. */
static int parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t words[8];
    int count = 0, gap = -1;
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
        if (i == n) goto done;
    } else if (n && s[0] == ':') {
        return 0;
    }
    while (i < n) {
        if (count == 8) return 0;
        /* an embedded IPv4 address ends the text */
        size_t j = i;
        while (j < n && s[j] != ':' && s[j] != '.') j++;
        if (j < n && s[j] == '.') {
            uint8_t v4[4];
            if (count > 6 || !parse_ipv4(s + i, n - i, v4)) return 0;
            words[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
            words[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = n;
            break;
        }
        uint32_t v = 0;
        size_t digits = 0;
        while (i < n && hexval(s[i]) >= 0) {
            v = v << 4 | (uint32_t)hexval(s[i++]);
            if (++digits > 4) return 0;
        }
        if (!digits) return 0;
        words[count++] = (uint16_t)v;
        if (i == n) break;
        if (s[i] != ':') return 0;
        i++;
        if (i < n && s[i] == ':') {
            if (gap >= 0) return 0;
            gap = count;
            i++;
            if (i == n) break;
        } else if (i == n) {
            return 0; /* trailing single colon */
        }
    }
done:
    if (gap < 0 && count != 8) return 0;
    if (gap >= 0 && count > 7) return 0;
    memset(out, 0, 16);
    int tail = gap >= 0 ? count - gap : 0;
    int head = gap >= 0 ? gap : count;
    for (int k = 0; k < head; k++) {
        out[2 * k] = (uint8_t)(words[k] >> 8);
        out[2 * k + 1] = (uint8_t)words[k];
    }
    for (int k = 0; k < tail; k++) {
        int dst = 8 - tail + k;
        out[2 * dst] = (uint8_t)(words[head + k] >> 8);
        out[2 * dst + 1] = (uint8_t)words[head + k];
    }
    return 1;
}
#endif

int lg_addr_parse(lg_addr *addr, const char *text, uint16_t default_port)
{
    memset(addr, 0, sizeof *addr);
    if (!text) return LG_ERR_ADDR_INVALID;
    size_t n = strlen(text);
    addr->port = default_port;
#if !defined(LG_NO_IPV6)
    if (text[0] == '[') {
        const char *close = memchr(text, ']', n);
        if (!close) return LG_ERR_ADDR_INVALID;
        size_t hlen = (size_t)(close - text - 1);
        /* a zone ("fe80::1%eth0") is kept only as a number */
        const char *pct = memchr(text + 1, '%', hlen);
        size_t iplen = pct ? (size_t)(pct - text - 1) : hlen;
        if (!parse_ipv6(text + 1, iplen, addr->ip)) return LG_ERR_ADDR_INVALID;
        if (pct) {
            uint32_t z = 0;
            for (const char *p = pct + 1; p < close; p++) {
                if (*p < '0' || *p > '9') return LG_ERR_ADDR_INVALID;
                z = z * 10 + (uint32_t)(*p - '0');
            }
            addr->scope_id = z;
        }
        addr->family = 6;
        if (close[1] == 0) return LG_OK;
        if (close[1] != ':') return LG_ERR_ADDR_INVALID;
        return parse_port(close + 2, &addr->port);
    }
    const char *colon = memchr(text, ':', n);
    if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - text))) {
        /* bare IPv6 without brackets and without a port */
        if (!parse_ipv6(text, n, addr->ip)) return LG_ERR_ADDR_INVALID;
        addr->family = 6;
        return LG_OK;
    }
#else
    const char *colon = memchr(text, ':', n);
#endif
    size_t hlen = colon ? (size_t)(colon - text) : n;
    if (!parse_ipv4(text, hlen, addr->ip)) return LG_ERR_ADDR_INVALID;
    addr->family = 4;
    return colon ? parse_port(colon + 1, &addr->port) : LG_OK;
}

int lg_addr_format(const lg_addr *addr, char *buf, size_t cap)
{
    char tmp[64];
    size_t n = 0;
    if (addr->family == 4) {
        for (int i = 0; i < 4; i++) {
            if (i) tmp[n++] = '.';
            n += lg__format_dec(tmp + n, addr->ip[i]);
        }
    }
#if !defined(LG_NO_IPV6)
    else {
        static const char hex[] = "0123456789abcdef";
        /* RFC 5952: the longest run of two or more zero words becomes "::" */
        int best = -1, best_len = 0;
        for (int i = 0; i < 8;) {
            int j = i;
            while (j < 8 && addr->ip[2 * j] == 0 && addr->ip[2 * j + 1] == 0) j++;
            if (j - i > best_len && j - i >= 2) {
                best = i;
                best_len = j - i;
            }
            i = j > i ? j : i + 1;
        }
        tmp[n++] = '[';
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                tmp[n++] = ':';
                if (i == 0) tmp[n++] = ':';
                i += best_len - 1;
                continue;
            }
            unsigned w = (unsigned)addr->ip[2 * i] << 8 | addr->ip[2 * i + 1];
            int started = 0;
            for (int shift = 12; shift >= 0; shift -= 4) {
                unsigned d = (w >> shift) & 15;
                if (d || started || shift == 0) {
                    tmp[n++] = hex[d];
                    started = 1;
                }
            }
            if (i < 7) tmp[n++] = ':';
        }
        tmp[n++] = ']';
    }
#endif
    tmp[n++] = ':';
    n += lg__format_dec(tmp + n, addr->port);
    if (n + 1 > cap) return LG_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, tmp, n);
    buf[n] = 0;
    return (int)n;
}
