#!/bin/sh
# The station's text screens driven through tmux against a real sonoprobe:
# status line, key bar, F1 help, controls, resize, terminal restore after
# q, Ctrl-C and a crash signal, and the ASCII fallback for TERM=linux and
# TERM=vt100.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

TMUX_TARGET=ui
. "$top_srcdir/tests/integration/tmux_lib.sh"

# restored: the alternate screen is off, the cursor visible and mouse
# reporting off, as before the station started.
restored() {
	[ "$(tmx display-message -p -t ui '#{alternate_on} #{cursor_flag} #{mouse_any_flag}')" = '0 1 0' ]
}

start_probe probe --source phantom --identity "$TEST_TMP/probe" --serial UI-TMUX-1 \
	--duration 300 || { fail "sonoprobe did not start"; finish; }
ADDR=127.0.0.1:$PROBE_PORT
PIN=$PROBE_PIN

# A configuration as the cloud login leaves it, plus a theme for the screens.
mkdir -p "$TEST_TMP/config/sonoterm"
cat >"$TEST_TMP/config/sonoterm/sonoterm.conf" <<EOF
[cloud]
url = https://127.0.0.1:9
[ui]
theme = high-contrast
EOF

# A shell with a known prompt, so the test can see it return.
STATION="$SONOTERM --scanner $ADDR --pin $PIN --log-level info"
start_shell 120 40 "$STATION_ENV" "export XDG_DATA_HOME='$TEST_TMP/data'"

# start_station [ENV_ASSIGNMENTS [OPTIONS]]
start_station() {
	shell_run "$1 $STATION ${2:-}"
}

# mouse_click ROW COL: a left click at 0-based cell (ROW, COL) as an X10
# mouse report (press, then release), the form tmux's terminfo describes.
mouse_click() {
	x=$(printf "\\$(printf '%03o' $(($2 + 33)))")
	y=$(printf "\\$(printf '%03o' $(($1 + 33)))")
	tmx send-keys -t ui -l "$(printf '\033[M ')$x$y$(printf '\033[M#')$x$y"
}

# --- startup: status line, side panel and key bar
start_station ""
check "status line shows the live screen" wait_pane '^ Sonoterm \| Live \| LIVE' 10
check "status line shows a connected TLS 1.3 link" wait_pane 'connected TLSv1\.3' 10
check "status line shows the scanner serial" wait_pane 'UI-TMUX-1' 10
check "key bar shows F1 Help" wait_pane '^F1Help +F2Render +F3Freeze' 5
check "key bar shows F10 Quit" wait_pane 'F10Quit *$' 5
check "panel shows the TLS cipher" wait_pane ' {9}TLS_(AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256) *$' 5
check "frames are painted" wait_pane 'LIVE [1-9][0-9]*\.[0-9] fps' 10
check "battery and temperature arrive" wait_pane 'bat [0-9]+% [0-9.]+C' 10
check "the theme comes from the configuration file" \
	grep -q 'theme high-contrast' "$TEST_TMP/state/sonoterm/sonoterm.log"

# --- F1 help over the live screen, closed by any key
tmx send-keys -t ui F1
check "F1 opens the help" wait_pane 'Help: Live' 3
check "help lists the freeze key" wait_pane 'Space or F3 +freeze' 3
tmx send-keys -t ui Escape
check "any key closes the help" wait_gone 'Help: Live'
sleep 0.3

# --- mouse: a click on the key bar presses that key, clicks on the image
# place caliper points
mouse_click 39 3
check "a click on F1 in the key bar opens the help" wait_pane 'Help: Live' 3
tmx send-keys -t ui Escape
sleep 0.3
mouse_click 20 40
sleep 0.3
mouse_click 30 50
check "two clicks on the image measure a distance" wait_pane 'Caliper +A-B [0-9]+\.[0-9] mm' 3
tmx send-keys -t ui x
check "x clears the calipers" wait_gone 'A-B'

# --- controls: gain, depth, preset, freeze, scrub, capture
tmx send-keys -t ui +
check "gain key raises the gain by 2 dB" wait_pane 'Gain +\+2 dB' 2
depth=$(pane | sed -n 's/.*Depth *\([0-9]*\) mm.*/\1/p' | head -n 1)
tmx send-keys -t ui Down
check "Down key deepens by 10 mm" wait_pane "Depth +$((depth + 10)) mm" 2
tmx send-keys -t ui p
check "p selects the next preset" wait_pane 'Preset +obstetric' 2
tmx send-keys -t ui Space
check "Space freezes" wait_pane 'State +FROZEN [0-9]+/[0-9]+' 2
before=$(pane | sed -n 's/.*FROZEN \([0-9]*\)\/.*/\1/p' | head -n 1)
tmx send-keys -t ui Left Left
check "Left scrubs back through the cine" wait_pane "FROZEN $((before - 2))/" 2
tmx send-keys -t ui m m
check "two caliper points give a distance in mm" wait_pane 'A-B [0-9]+\.[0-9] mm' 2
tmx send-keys -t ui s
check "s captures a still" wait_pane '1 stills, 0 cines' 2
tmx send-keys -t ui c
check "c captures the cine" wait_pane '1 stills, 1 cines' 5
tmx send-keys -t ui Space
check "Space unfreezes" wait_pane 'State +LIVE' 2

# --- resize: the layout follows and the key bar stays on the last row
tmx resize-window -t ui -x 90 -y 30
check "resize keeps the status line" wait_pane '^ Sonoterm \| Live' 3
sleep 0.5
check "resize moves the key bar to the new last row" \
	sh -c "tmux -L $TMUX_SOCKET capture-pane -p -t ui | sed -n 30p | grep -q '^F1'"
check "frames are still painted after the resize" wait_pane 'LIVE [1-9][0-9]*\.[0-9] fps' 5
tmx resize-window -t ui -x 120 -y 40

# --- q restores the terminal
tmx send-keys -t ui q
check "q exits with status 0" wait_pane '^EXIT=0' 5
check "the prompt returns after q" wait_pane 'PROMPT\$ *$' 3
check "alternate screen off, cursor on, mouse off after q" restored

check "the still and the cine are in an unassigned exam in the store" sh -c \
	"XDG_DATA_HOME='$TEST_TMP/data' '$SONOTERM' exams list | grep -Eq ' scanning +1 +1 '"
check "the stored frames pass the store check" \
	env XDG_DATA_HOME="$TEST_TMP/data" "$SONOTERM" exams check

# --- Ctrl-C restores the terminal
start_station ""
wait_pane 'LIVE [1-9][0-9]*\.[0-9] fps' 10
tmx send-keys -t ui C-c
check "Ctrl-C exits with status 130" wait_pane '^EXIT=130' 5
check "terminal restored after Ctrl-C" restored

# --- a crash signal restores the terminal before the default action
start_station ""
wait_pane 'LIVE [1-9][0-9]*\.[0-9] fps' 10
shell_pid=$(tmx display-message -p -t ui '#{pane_pid}')
station_pid=$(ps -o pid= --ppid "$shell_pid" | tr -d ' ' | head -n 1)
if [ -n "$station_pid" ]; then
	kill -ABRT "$station_pid"
	check "SIGABRT ends the station" wait_pane '^EXIT=(134|6|1)' 10
	check "terminal restored after SIGABRT" restored
else
	fail "station process not found under pane shell $shell_pid"
fi

# --- a wrong pin stops the link and ends with the security exit status
start_station "" "--pin SHA256:$(printf '%064d' 0)"
check "wrong pin: the link fails" wait_pane 'Link +failed' 10
check "wrong pin: the status line names the mismatch" wait_pane 'Scanner failed: certificate fingerprint' 5
tmx send-keys -t ui q
check "wrong pin: exit status 3" wait_pane '^EXIT=3' 5

# --- themes: night by name; a malformed file is reported with its line
start_station "" "--theme night"
check "night theme starts" wait_pane 'LIVE [1-9][0-9]*\.[0-9] fps' 10
tmx send-keys -t ui q
check "night theme exits with status 0" wait_pane '^EXIT=0' 5
check "night theme was loaded" grep -q 'theme night' "$TEST_TMP/state/sonoterm/sonoterm.log"
mkdir -p "$TEST_TMP/themes"
printf 'name = broken\nbody = white on\n' >"$TEST_TMP/themes/broken.theme"
start_station "SONO_THEME_DIR=$TEST_TMP/themes" "--theme broken"
check "malformed theme still opens the screen" wait_pane 'LIVE [1-9][0-9]*\.[0-9] fps' 10
tmx send-keys -t ui q
check "malformed theme exits with status 0" wait_pane '^EXIT=0' 5
check "malformed theme is reported with file and line" \
	wait_pane 'broken\.theme:2: expected a colour after "on"; using the default theme' 3

# --- TERM=linux and TERM=vt100 fall back to ASCII
for term in linux vt100; do
	start_station "TERM=$term"
	check "TERM=$term shows the status line" wait_pane '^ Sonoterm \| Live' 10
	check "TERM=$term selects the ASCII renderer" wait_pane 'Render +ascii' 5
	check "TERM=$term paints frames" wait_pane 'LIVE [1-9][0-9]*\.[0-9] fps' 10
	tmx send-keys -t ui q
	check "TERM=$term exits with status 0" wait_pane '^EXIT=0' 5
done

check "the log file was written under XDG_STATE_HOME" \
	grep -q 'live screen opened' "$TEST_TMP/state/sonoterm/sonoterm.log"
check "nothing from the log reached the terminal" sh -c "! tmux -L $TMUX_SOCKET capture-pane -p -S - -t ui | grep -q 'notice'"
finish
