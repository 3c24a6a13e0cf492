#!/usr/bin/env python3
"""gen.py results.json ClassName 'doc line' > File.swift : Swift XCTest code from recorded transcripts."""
import json, sys, re

DATE = "2026-11-22"  # date of the recordings

def lit_lines(text):
    assert text.endswith("\n") or text == "", repr(text)
    body = text[:-1] if text else ""
    out = []
    for l in body.split("\n"):
        l = l.replace("\\", "\\\\").replace("\t", "\\t")
        if l.endswith(" "):
            l = l[:-1] + "\\u{20}"
        out.append(l)
    return out

def literal(text, indent):
    if text == "":
        return '""'
    pad = " " * indent
    lines = lit_lines(text)
    if len(lines) == 1 and '"' not in lines[0] and len(lines[0]) < 70 and lines[0] != "":
        return '"' + lines[0] + '"'
    return '"""\n' + "\n".join((pad + l) if l else "" for l in lines) + "\n" + pad + '"""'

def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

def cmdtext(it):
    return (it["ns"] + "> " if it["ns"] else "") + it["cmd"]

def emit(tests, cls, doc, macs):
    o = []
    o.append(f"// {cls}: {doc}")
    o.append(f"// Every expected text below was observed on Linux 6.18 / iproute2 6.1 / bridge-utils 1.7 on")
    o.append(f"// {DATE} by running the same commands in ct_* namespaces (see Lab.swift for the setup).")
    o.append("// Generated from .recordings/ (see its README.md); regenerate rather than edit by hand.")
    o.append("")
    o.append("import XCTest")
    o.append("")
    o.append(f"final class {cls}: XCTestCase {{")
    for t in tests:
        o.append("")
        for c in t.get("doc", []):
            o.append(f"    /// {c}")
        o.append(f"    func {t['name']}() {{")
        o.append("        let lab = Lab()")
        pending = []
        def flush():
            if not pending: return
            if len(pending) == 1:
                o.append(f"        lab.run({q(pending[0])})")
            else:
                o.append('        lab.run("""')
                for p in pending: o.append("            " + p)
                o.append('            """)')
            pending.clear()
        for it in t["items"]:
            if "comment" in it:
                flush(); o.append(f"        // {it['comment']}"); continue
            if "mac" in it:
                flush(); o.append(f"        lab.noteRandomMAC({q(it['mac'][0])}, {q(it['mac'][1])})"); continue
            silent = it["out"] == "" and it["err"] == "" and it["rc"] == 0
            if not it["check"] and silent and "known" not in it:
                pending.append(cmdtext(it)); continue
            flush()
            args = [q(cmdtext(it))]
            if it["out"]: args.append(literal(it["out"], 12))
            if it["rc"] != 0: args.append(f"status: {it['rc']}")
            if it["err"]: args.append("stderr: " + literal(it["err"], 12))
            if "known" in it:
                args.append("knownDifference: true")
                import textwrap
                for l in textwrap.wrap("Known difference of the kernel model: " + it["known"] + ".", 92):
                    o.append("        // " + l)
            o.append(f"        lab.check({', '.join(args)})")
        flush()
        o.append("    }")
    o.append("}")
    return "\n".join(o) + "\n"

tests = json.load(open(sys.argv[1]))
print(emit(tests, sys.argv[2], sys.argv[3], None), end="")
