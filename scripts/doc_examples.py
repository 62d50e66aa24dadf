#!/usr/bin/python3
"""Compile every C example of the documentation against include/linger.h.

The examples are the ```c blocks of README.md and docs/*.md, and the
indented blocks in the comments of include/linger.h and linger_ws.h: a run
of comment lines indented by three spaces or more after the "*", after an
empty comment line (or the comment's opening), that holds a ";" or a "{"
(so the list of sections at the top of the header is no example).

Examples are fragments. Each is cut into its top-level items: preprocessor
lines, function definitions, type definitions and static or extern
declarations stay at file scope; everything else (statements, local
declarations) goes, in order, into the body of one function. A prelude
includes linger.h and the common C headers and declares what the prose
assumes (a loop, a server, a buffer, ...; see PRELUDE). #line directives
make errors point at the documentation's own lines.

Each example is compiled with -std=c99 -Wall -Wextra -Werror -fsyntax-only.
Two warnings are off: unused static functions (a fragment defines handlers
it does not register) and, in the function the loose statements go into
only, unused variables (a fragment shows a declaration and stops).

A ```c block that is not meant to compile is preceded by a line
"<!-- not compiled: reason -->" (for what is not a C API example).

Usage: doc_examples.py [--cc CC] [--list] [--show] [ROOT]
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

PRELUDE = r"""
#define _POSIX_C_SOURCE 200809L /* pipe, sigaction, write */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linger.h"
#include "linger_ws.h"

/* A fragment defines handlers it does not register. */
#pragma GCC diagnostic ignored "-Wunused-function"

/* What the prose around the examples takes as given. */
extern lg_loop *loop;
extern lg_server *srv;
extern lg_client *cli;
extern const char *buf, *json, *p, *s;
extern size_t len, n;
extern lg_body_reader r;
void fail(int err);
void deliver(lg_str data);
void send_bytes(const char *data, size_t len);
/* ... and around the WebSocket codec's */
extern lg_ws_parser ws;
extern char *rbuf;
extern lg_head head;
extern lg_writer w;
void close_with(int status);
void message_done(int opcode);
/* ... and around the multipart decoder's */
void start_part(lg_str name, lg_str filename, lg_str type);
void end_part(void);
"""

CONTROL = ("if", "for", "while", "switch", "else", "do", "return")


class Example:
    def __init__(self, path, line, text):
        self.path, self.line, self.text = path, line, text

    def where(self):
        return "%s:%d" % (self.path, self.line)


def markdown_examples(path, rel):
    """```c blocks, unless marked <!-- not compiled: ... --> just before."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(2), i + 1
        end = start
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        prev = i - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        skipped = prev >= 0 and re.match(r"^\s*<!--\s*not compiled:", lines[prev])
        if lang == "c" and not skipped:
            body = [ln[len(m.group(1)):] if ln.startswith(m.group(1)) else ln
                    for ln in lines[start:end]]
            out.append(Example(rel, start + 1, "\n".join(body)))
        i = end + 1
    return out


def header_examples(path, rel):
    """Indented blocks in the header's comments (see the module's doc)."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    code = re.compile(r"^\s*\*( {3,}\S.*)$")
    blank = re.compile(r"^\s*\*\s*$")
    opening = re.compile(r"^\s*/\*")
    i = 0
    while i < len(lines):
        if not code.match(lines[i]):
            i += 1
            continue
        start = i
        block = []
        while i < len(lines):
            m = code.match(lines[i])
            if m:
                block.append(m.group(1))
            elif blank.match(lines[i]) and i + 1 < len(lines) and code.match(lines[i + 1]):
                block.append("")
            else:
                break
            i += 1
        before = lines[start - 1] if start else ""
        after_blank = blank.match(before) or opening.match(before)
        text = "\n".join(block)
        if after_blank and re.search(r"[;{]", text):
            indent = min(len(b) - len(b.lstrip()) for b in block if b.strip())
            out.append(Example(rel, start + 1, "\n".join(b[indent:] for b in block)))
    return out


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def split_items(text):
    """Top-level items of a fragment: (offset, text) in order."""
    items = []
    i, start, depth, parens = 0, 0, 0, 0
    open_brace = None  # where the brace that opened the current depth-1 block is
    at_line_start = True
    while i < len(text):
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            at_line_start = False
            continue
        if c == "#" and at_line_start and depth == 0 and parens == 0:
            j = text.find("\n", i)
            j = len(text) if j < 0 else j
            if text[start:i].strip():
                items.append((start, text[start:i]))
            items.append((i, text[i:j]))
            i = start = j
            continue
        if c == "\n":
            at_line_start = True
        elif not c.isspace():
            at_line_start = False
        if c == "(":
            parens += 1
        elif c == ")":
            parens -= 1
        elif c == "{":
            if depth == 0 and parens == 0:
                open_brace = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and parens == 0:
                head = strip_comments(text[start:open_brace]).strip()
                # A function body or a statement's block ends the item; a
                # struct, an initialiser or "do" goes on to its ";".
                if head.endswith(")") or head == "else" or head.endswith(" else"):
                    items.append((start, text[start:i + 1]))
                    start = i + 1
        elif c == ";" and depth == 0 and parens == 0:
            items.append((start, text[start:i + 1]))
            start = i + 1
        i += 1
    if text[start:].strip():
        items.append((start, text[start:]))
    return [(off, t) for off, t in items if strip_comments(t).strip()]


def file_scope(item):
    """Does this top-level item belong outside a function?"""
    t = strip_comments(item).strip()
    if t.startswith("#"):
        return True
    first = re.match(r"[A-Za-z_]\w*", t)
    first = first.group(0) if first else ""
    if first in CONTROL:
        return False
    if first in ("typedef", "static", "extern"):
        return True
    if first in ("struct", "union", "enum"):
        brace, eq, paren = t.find("{"), t.find("="), t.find("(")
        return brace >= 0 and (eq < 0 or brace < eq) and (paren < 0 or brace < paren)
    # a function definition: a head ending in ")" and a body
    if t.endswith("}"):
        head = t[: t.find("{")].strip()
        return head.endswith(")") and "=" not in head
    return False


def line_of(text, offset):
    return text.count("\n", 0, offset)


def translation_unit(ex):
    items = split_items(ex.text)
    outer, inner = [], []
    for off, t in items:
        first_line = ex.line + line_of(ex.text, off + len(t) - len(t.lstrip()))
        chunk = '#line %d "%s"\n%s\n' % (first_line, ex.path, t.strip("\n").lstrip())
        (outer if file_scope(t) else inner).append(chunk)
    src = ["/* %s, by scripts/doc_examples.py */" % ex.where(), PRELUDE]
    src += outer
    if inner:
        src.append("#pragma GCC diagnostic push")
        src.append('#pragma GCC diagnostic ignored "-Wunused-variable"')
        src.append("#if !defined(__clang__) || __clang_major__ >= 13")
        src.append('#pragma GCC diagnostic ignored "-Wunused-but-set-variable"')
        src.append("#endif")
        src.append("static int doc_example_statements(void)\n{")
        src += inner
        src.append("return 0;\n}")
        src.append("#pragma GCC diagnostic pop")
    return "\n".join(src) + "\n"


def compile_example(cc, include, ex):
    src = translation_unit(ex)
    cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I", include,
           "-x", "c", "-"]
    res = subprocess.run(cmd, input=src, capture_output=True, text=True)
    return res.returncode == 0, res.stderr, src


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--list", action="store_true", help="print the examples found and stop")
    ap.add_argument("--show", action="store_true", help="print the generated source of failures")
    ap.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(__file__), ".."))
    args = ap.parse_args()
    root = os.path.abspath(args.root)

    header = []
    for h in ["include/linger.h", "include/linger_ws.h"]:
        header += header_examples(os.path.join(root, h), h)
    docs = []
    for md in ["README.md"] + sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
        docs += markdown_examples(os.path.join(root, md), os.path.relpath(os.path.join(root, md), root))
    if not header or not docs:
        print("doc examples: found %d in include/*.h and %d in the Markdown files; "
              "the extraction is broken" % (len(header), len(docs)))
        return 1
    examples = header + docs
    if args.list:
        for ex in examples:
            print("--- %s\n%s" % (ex.where(), ex.text))
        return 0

    # The compiler must refuse what is wrong, or every example would "pass":
    # the call that prompted this test, without its flags argument.
    wrong = Example("(self-check)", 1, 'lg_server_listen(srv, "0.0.0.0:8080");')
    if compile_example(args.cc, os.path.join(root, "include"), wrong)[0]:
        print("doc examples: %s accepted a call with an argument missing" % args.cc)
        return 1

    failed = 0
    for ex in examples:
        ok, errors, src = compile_example(args.cc, os.path.join(root, "include"), ex)
        if not ok:
            failed += 1
            print("FAILED %s\n%s" % (ex.where(), errors))
            if args.show:
                print(src)
    print("doc examples: %d compiled, %d failed (%d in the headers, %d in Markdown)"
          % (len(examples) - failed, failed, len(header), len(docs)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
