#!/bin/bash
# Takes the README screenshot of `procperf top`: docs/top.png (colours) and docs/top.txt (text).
#
# Runs `procperf top --replay` on the recorded fixture in a detached 160x45 tmux session, lets it
# build up history, sorts by disk (so the charts show CPU and DISK for the busiest disk
# process), captures the pane with its colours (`capture-pane -e`), turns the ANSI text into a
# small HTML page (monospace grid, dark background) and screenshots that with headless Chromium.
#
# Needs tmux, chromium, python3 and fonts-dejavu-core (Debian packages). No root, no module.
set -euo pipefail
cd "$(dirname "$0")/../.."

cols=160 rows=45 font_px=14 cell_w=8.5 line_px=17 pad=12
target_dir=${CARGO_TARGET_DIR:-target}
fixture=cli/tests/data/predictions-recorded.csv
tmp=$(mktemp -d)
tmux_() { tmux -u -f /dev/null -S "$tmp/tmux.sock" "$@"; }
cleanup() { tmux_ kill-server 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

cargo build --release -q -p procperf-cli
bin=$(realpath "$target_dir/release/procperf")

LANG=C.UTF-8 TERM=xterm-256color tmux_ new-session -d -s top -x "$cols" -y "$rows" \
    "'$bin' top --replay '$fixture' --interval 0.1"
# Waits until the header shows a pass matching $1 (a grep pattern), leaving the screen in top.ansi.
wait_pass() {
    for _ in $(seq 400); do
        tmux_ capture-pane -e -p -t top >"$tmp/top.ansi"
        head -n 1 "$tmp/top.ansi" | grep -q "pass $1/60" && return 0
        sleep 0.025
    done
    echo "screenshot: never saw pass $1" >&2
    exit 1
}
# Select the busiest disk process late in the recording, then capture a few passes later,
# when the charts hold most of the recording.
wait_pass '4[0-4]'
tmux_ send-keys -t top d Home
wait_pass '5[0-8]'
tmux_ send-keys -t top q

mkdir -p docs
sed 's/\x1b\[[0-9;:]*m//g' "$tmp/top.ansi" | sed 's/[[:space:]]*$//' >docs/top.txt

python3 - "$tmp/top.ansi" "$tmp/top.html" "$font_px" "$cell_w" "$line_px" "$pad" <<'EOF'
"""ANSI (SGR colours and attributes, as tmux capture-pane -e writes them) to an HTML grid."""
import html, re, sys

src, dst, font_px, cell_w, line_px, pad = sys.argv[1:]
# xterm-like palette on a dark background: 0-7 normal, 8-15 bright.
PALETTE = ["#1e1e1e", "#e05555", "#5fbf5f", "#d7b845", "#5c8ee6", "#c678dd", "#4fc3d6", "#d0d0d0",
           "#7a7a7a", "#ff7070", "#80e080", "#f0d060", "#80a8ff", "#e090f0", "#70e0f0", "#ffffff"]
FG, BG = "#d0d0d0", "#1e1e1e"

def color256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        v = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (v[n // 36], v[n // 6 % 6], v[n % 6])
    g = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (g, g, g)

def apply(state, params):
    p = [int(x) if x else 0 for x in params.replace(":", ";").split(";")] or [0]
    i = 0
    while i < len(p):
        c = p[i]
        if c == 0: state.clear()
        elif c == 1: state["bold"] = True
        elif c == 2: state["dim"] = True
        elif c == 3: state["italic"] = True
        elif c == 4: state["underline"] = True
        elif c == 7: state["reverse"] = True
        elif c == 22: state.pop("bold", None); state.pop("dim", None)
        elif c == 23: state.pop("italic", None)
        elif c == 24: state.pop("underline", None)
        elif c == 27: state.pop("reverse", None)
        elif 30 <= c <= 37: state["fg"] = PALETTE[c - 30]
        elif 90 <= c <= 97: state["fg"] = PALETTE[c - 90 + 8]
        elif 40 <= c <= 47: state["bg"] = PALETTE[c - 40]
        elif 100 <= c <= 107: state["bg"] = PALETTE[c - 100 + 8]
        elif c == 39: state.pop("fg", None)
        elif c == 49: state.pop("bg", None)
        elif c in (38, 48) and i + 1 < len(p):
            key = "fg" if c == 38 else "bg"
            if p[i + 1] == 5 and i + 2 < len(p):
                state[key] = color256(p[i + 2]); i += 2
            elif p[i + 1] == 2 and i + 4 < len(p):
                state[key] = "#%02x%02x%02x" % tuple(p[i + 2:i + 5]); i += 4
        i += 1

def css(state):
    fg, bg = state.get("fg", FG), state.get("bg", BG)
    if state.get("reverse"):
        fg, bg = bg, fg
    s = f"color:{fg};"
    if bg != BG: s += f"background:{bg};"
    if state.get("bold"): s += "font-weight:bold;"
    if state.get("dim"): s += "opacity:0.7;"
    if state.get("italic"): s += "font-style:italic;"
    if state.get("underline"): s += "text-decoration:underline;"
    return s

out, state = [], {}
for line in open(src, encoding="utf-8").read().rstrip("\n").split("\n"):
    row = []
    for part in re.split(r"(\x1b\[[0-9;:]*m)", line):
        m = re.fullmatch(r"\x1b\[([0-9;:]*)m", part)
        if m:
            apply(state, m.group(1))
            continue
        for ch in part:
            # Every cell its own box: braille and box drawing come from fallback fonts whose
            # advance differs, and the grid must not drift.
            cls = ' class="b"' if 0x2800 <= ord(ch) <= 0x28FF else ""
            row.append(f'<span{cls} style="{css(state)}">{html.escape(ch)}</span>')
    out.append('<div class="l">' + "".join(row) + "</div>")

page = f"""<!doctype html><meta charset="utf-8"><style>
html,body{{margin:0;background:{BG};}}
body{{padding:{pad}px;font:{font_px}px 'DejaVu Sans Mono',monospace;}}
.l{{height:{line_px}px;line-height:{line_px}px;white-space:pre;}}
.l span{{display:inline-block;width:{cell_w}px;text-align:center;overflow:hidden;vertical-align:top;height:{line_px}px;}}
.l span.b{{font-size:{int(line_px) + 2}px;}}
</style><body>{''.join(out)}</body>"""
open(dst, "w", encoding="utf-8").write(page)
EOF

width=$(python3 -c "print(int($cols * $cell_w + 2 * $pad))")
height=$((rows * line_px + 2 * pad))
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --screenshot="$PWD/docs/top.png" --window-size="$width,$height" "file://$tmp/top.html" 2>/dev/null
echo "wrote docs/top.png (${width}x${height}) and docs/top.txt"
