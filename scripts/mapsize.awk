# Sums the input sections of a GNU ld map (-Wl,-Map) by the file they come
# from, as text (.text, .rodata), data and bss: what of each object the
# linker kept (scripts/size.sh). Prints "file text data bss" per file;
# with -v kept=NAME, instead the names of the sections kept from the files
# whose name contains NAME (the stand-in C library: which functions a build
# calls).
/^Linker script and memory map/ { inmap = 1; next }
!inmap { next }
/^\.[A-Za-z_]/ {  # an output section
  split($0, p, /[ \t]+/); out = p[1]; next
}
/^ [.A-Za-z_*]/ || /^ COMMON/ {
  # input section line: " .text.foo  0xaddr  0xsize  file" or name only (continued)
  n = split($0, p, /[ \t]+/)
  name = p[2]
  if (n >= 5 && p[3] ~ /^0x/ && p[4] ~ /^0x/) { add(out, p[4], p[5]); pending = 0 }
  else if (n == 2) pending = 1
  next
}
pending && /^[ \t]+0x/ {
  n = split($0, p, /[ \t]+/)
  if (n >= 4 && p[3] ~ /^0x/) add(out, p[3], p[4])
  pending = 0; next
}
{ pending = 0 }
function hex(s,   i, c, v) { v = 0; s = tolower(substr(s, 3)); for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c } return v }
function add(sec, size, file,   v, kind) {
  v = hex(size); if (v == 0) return
  if (sec == ".bss" || sec == ".sbss" || sec ~ /^\.tbss/) kind = "bss"
  else if (sec == ".data" || sec == ".sdata" || sec ~ /^\.tdata/) kind = "data"
  else if (sec ~ /^\.(text|rodata|srodata|ARM\.ex)/ || sec == ".init" || sec == ".fini") kind = "text"
  else return
  sub(/.*\//, "", file)
  tot[file, kind] += v; files[file] = 1
  if (kept != "" && index(file, kept) && kind == "text") { sub(/^\.text\./, "", name); names[name] = 1 }
}
END {
  if (kept != "") { for (f in names) print f; exit }
  for (f in files) printf "%s %d %d %d\n", f, tot[f, "text"], tot[f, "data"], tot[f, "bss"]
}
