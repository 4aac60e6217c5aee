# Helpers for the station store tests (store_*.sh); source after lib.sh and
# link_common.sh.

# write_patient FILE ID FAMILY GIVEN BIRTH: writes a patient file.
write_patient() {
	printf 'patient_id = %s\nfamily_name = %s\ngiven_name = %s\nbirth_date = %s\nsex = O\n' \
		"$2" "$3" "$4" "$5" >"$1"
}

# key_hex DATA_DIR: prints the raw store key as 64 hex digits.
key_hex() {
	xxd -p -c 64 "$1/sonoterm.key"
}

# sqlcipher_run DATA_DIR: runs the sqlcipher CLI on the station database
# with its raw key and the store's cipher settings, reading SQL and dot
# commands from standard input.
sqlcipher_run() {
	{
		printf "PRAGMA key = \"x'%s'\";\n" "$(key_hex "$1")"
		printf 'PRAGMA cipher_page_size = 4096;\nPRAGMA kdf_iter = 64000;\n'
		cat
	} | sqlcipher -batch "$1/sonoterm.db"
}

# capture DATA_DIR PATIENT_FILE FRAMES [ARGS...]: records a cine from the
# probe started by start_probe and prints the exam UUID.
capture() {
	dir=$1 patient=$2 frames=$3
	shift 3
	"$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" \
		--frames "$frames" --patient "$patient" --data-dir "$dir" "$@"
}
