#!/usr/bin/env bash
# The emcluster command on files as people have them, and the safety of a user's files: one
# group of cases per MODE, each case a numbered item of issue 20 (tools/tests/CMakeLists.txt
# runs every mode under ctest).
#
#   cli_files.sh MODE EMCLUSTER REFERENCE WORK DATA
#
# MODE: safety | fault | formats | models | alignment | messages | sizes | progress.
# EMCLUSTER: the command; REFERENCE: emcluster_cli_reference; WORK: a scratch directory (made
# anew); DATA: tools/tests/data (R's data sets written by make_cli_fixtures.R).
set -uo pipefail
mode="$1" emcluster="$2" reference="$3" work="$4" data="$5"
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# run RC ARGS...: the command, stdout in out.txt, stderr in err.txt (and appended to
# all_err.txt); fails unless it exits RC.
run() {
  local want="$1"
  shift
  "$emcluster" "$@" >out.txt 2>err.txt
  local rc=$?
  cat err.txt >>all_err.txt
  if [ "$rc" != "$want" ]; then
    fail "emcluster $*: exit $rc, expected $want; stderr: $(head -c 600 err.txt)"
  fi
  return 0
}
# has FILE TEXT: FILE contains TEXT (fixed string).
has() { grep -qF -- "$2" "$1" || fail "expected '$2' in $1: $(head -c 600 "$1")"; }
hasnt() { ! grep -qF -- "$2" "$1" || fail "did not expect '$2' in $1: $(head -c 600 "$1")"; }
same() { cmp -s "$1" "$2" || fail "$1 and $2 differ"; }
lines() { wc -l <"$1" | tr -d ' '; }
# writing NAME: a temporary of NAME holds bytes (its write has begun; the empty temporary
# of the directory probe before the fit does not count).
writing() {
  local f
  for f in ."$1".tmp-*; do [ -s "$f" ] && return 0; done
  return 1
}
# A whole model: the command loads it and predicts with it.
whole_model() { "$emcluster" predict "$1" data.csv -o /dev/null -q 2>/dev/null; }

"$emcluster" generate --article --seed 42 -o data.csv --truth truth.csv || exit 1

case "$mode" in
# ---- Item 1, 2, 3, 4: nothing is lost ----------------------------------------------------------
safety)
  # 1. An output that is an input, or two outputs on one file: exit 2, before any work, the
  #    input untouched (byte for byte).
  cp data.csv orig.csv
  "$emcluster" kmeans data.csv -k 2 --model km.json -q
  "$emcluster" gmm data.csv -k 2 --model gmm.json -q
  "$emcluster" kmeans data.csv -k 2 -q >labels.csv
  cp km.json km_orig.json
  ln -s data.csv link_to_data.csv
  ln data.csv hard_link.csv
  run 2 kmeans data.csv -k 2 --labels data.csv
  has err.txt "--labels and DATA are the same file"
  run 2 kmeans data.csv -k 2 --model data.csv
  run 2 kmeans data.csv -k 2 --labels ./data.csv
  run 2 kmeans data.csv -k 2 --labels link_to_data.csv
  run 2 kmeans data.csv -k 2 --labels hard_link.csv
  run 2 kmeans data.csv -k 2 --labels "$work/data.csv"
  run 2 gmm data.csv -k 2 --proba data.csv
  run 2 select data.csv --k 1:2 --table data.csv
  run 2 kmeans data.csv -k 2 --model x.json --labels x.json
  has err.txt "--labels and --model are the same file"
  run 2 kmeans data.csv -k 2 --model x.json --labels ./sub/../x.json
  run 2 plot data.csv --labels labels.csv -o data.csv
  run 2 plot data.csv --labels labels.csv -o labels.csv
  run 2 plot data.csv --labels labels.csv --model km.json -o km.json
  run 2 predict km.json data.csv -o km.json
  run 2 predict km.json data.csv -o data.csv
  run 2 sample gmm.json -n 5 -o gmm.json
  run 2 generate --article -o x.csv --truth x.csv
  same data.csv orig.csv
  same km.json km_orig.json
  [ -e x.json ] && fail "x.json was written"
  # Two outputs on standard output, two inputs on standard input.
  run 2 gmm data.csv -k 2 --labels - --proba -
  has err.txt "both go to standard output"
  run 2 select data.csv --k 1:2 --labels - --table -
  run 2 plot - --labels - -o p.svg
  has err.txt "both read standard input"
  # 4. Empty paths are usage errors.
  run 2 kmeans data.csv -k 2 --model ""
  has err.txt "--model: expected a file name, got an empty string"
  run 2 kmeans data.csv -k 2 --labels ""
  run 2 gmm data.csv -k 2 --proba ""
  run 2 predict km.json data.csv -o ""
  run 2 kmeans "" -k 2
  # Output directories are checked before the fit (a missing one: exit 1, nothing fitted).
  run 1 kmeans data.csv -k 2 --model no/such/dir/m.json
  has err.txt "no/such/dir/m.json: the directory no/such/dir does not exist"
  hasnt err.txt "kmeans: k = 2"
  mkdir ro && chmod 555 ro
  if [ "$(id -u)" != 0 ]; then
    run 1 kmeans data.csv -k 2 --model ro/m.json
    has err.txt "cannot create a file in ro"
  fi
  run 1 kmeans data.csv -k 2 --model .
  has err.txt "is a directory"
  # 3. A failed write to standard output is an error; a closed standard output too.
  "$emcluster" kmeans data.csv -k 2 -q >/dev/full 2>err.txt
  [ $? = 1 ] || fail "kmeans > /dev/full: expected exit 1"
  has err.txt "standard output: cannot write the labels: No space left on device"
  "$emcluster" predict km.json data.csv >/dev/full 2>err.txt
  [ $? = 1 ] || fail "predict > /dev/full: expected exit 1"
  "$emcluster" score km.json data.csv >/dev/full 2>err.txt
  [ $? = 1 ] || fail "score > /dev/full: expected exit 1"
  "$emcluster" select data.csv --k 1:2 -q >/dev/full 2>err.txt
  [ $? = 1 ] || fail "select > /dev/full: expected exit 1"
  "$emcluster" kmeans data.csv -k 2 -q >&- 2>err.txt
  [ $? = 1 ] || fail "kmeans >&-: expected exit 1"
  has err.txt "standard output: is closed"
  # ... while a closed standard output does not take a file's place.
  "$emcluster" kmeans data.csv -k 2 -q --model closed.json >&- 2>err.txt ||
    fail "kmeans --model with stdout closed: $(cat err.txt)"
  whole_model closed.json || fail "closed.json is not a whole model"
  # 2. Files are replaced whole: the previous model survives a failed write (a file size
  #    limit makes the write fail with EFBIG), and no temporary is left.
  "$emcluster" generate --article --scale 20 -o big.csv
  cp km.json before.json
  (
    ulimit -f 16 # 16 KiB: the model with its training labels is larger
    trap '' XFSZ
    exec "$emcluster" kmeans big.csv -k 3 -q --save-training-labels --model km.json
  ) 2>err.txt && fail "a write beyond the file size limit succeeded"
  has err.txt "km.json: cannot write the model: File too large"
  same km.json before.json
  ls -a | grep -q '\.tmp-' && fail "a temporary was left: $(ls -a)"
  # A symbolic link as an output: the file it points to is replaced, the link kept.
  cp km.json real.json
  ln -s real.json model_link.json
  "$emcluster" kmeans data.csv -k 3 -q --model model_link.json
  [ -L model_link.json ] || fail "the link was replaced by a file"
  cmp -s real.json before.json && fail "real.json was not replaced"
  whole_model real.json || fail "real.json is not a whole model"
  # Permissions of a replaced file are kept.
  chmod 640 real.json
  "$emcluster" kmeans data.csv -k 2 -q --model real.json
  [ "$(stat -c %a real.json)" = 640 ] || fail "permissions not kept: $(stat -c %a real.json)"
  # An interrupt (SIGTERM, SIGINT) while a large model is being written leaves the old file
  # and no temporary (the handler removes it).
  "$emcluster" generate --article --scale 400 -o huge.csv
  for sig in TERM HUP; do
    cp before.json km.json
    "$emcluster" kmeans huge.csv -k 3 -q --save-training-labels --model km.json &
    pid=$!
    # Until the temporary appears (the write has begun) or the command has ended.
    while ! writing km.json && kill -0 "$pid" 2>/dev/null; do :; done
    kill -s "$sig" "$pid" 2>/dev/null
    wait "$pid"
    whole_model km.json || fail "SIG$sig left km.json broken"
    compgen -G '.km.json.tmp-*' >/dev/null && fail "SIG$sig left a temporary: $(ls -a)"
  done
  # A full disk: a small tmpfs where one can be mounted (root, outside a restricted
  # container); skipped with a note otherwise.
  mkdir -p small
  if mount -t tmpfs -o size=256k tmpfs small 2>/dev/null; then
    "$emcluster" kmeans data.csv -k 2 -q --model small/m.json
    cp small/m.json before_full.json
    head -c 200000 /dev/zero >small/filler
    "$emcluster" kmeans big.csv -k 3 -q --save-training-labels --model small/m.json 2>err.txt &&
      fail "a write to a full disk succeeded"
    has err.txt "No space left on device"
    same small/m.json before_full.json
    ls -a small | grep -q '\.tmp-' && fail "a temporary was left on the full disk"
    umount small
  else
    echo "NOTE: full-disk case skipped (cannot mount a tmpfs here); the file size limit case above covers the write failure"
  fi
  ;;

# ---- Item 2: a kill at any moment of the write leaves the old model or the whole new one ------
fault)
  "$emcluster" generate --article --scale 400 -o huge.csv
  "$emcluster" kmeans data.csv -k 2 -q --model m.json
  cp m.json old.json
  during=0
  for i in $(seq 1 24); do
    rm -f .m.json.tmp-*
    "$emcluster" kmeans huge.csv -k 3 -q --seed "$i" --save-training-labels --model m.json &
    pid=$!
    # Wait for the temporary to appear (the write has begun; however long the fit takes),
    # then kill after 0..23 ms.
    while ! writing m.json && kill -0 "$pid" 2>/dev/null; do :; done
    writing m.json && during=$((during + 1))
    sleep "0.0$(printf '%02d' $((i - 1)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if cmp -s m.json old.json; then
      :
    elif whole_model m.json; then
      cp m.json old.json # the new model, whole: the next kill must leave this one or a newer
    else
      fail "kill $i: m.json is neither the previous model nor a whole new one"
    fi
  done
  [ "$during" -ge 12 ] || fail "only $during of 24 kills fell during the write"
  echo "kills during the write: $during of 24"
  # Two writers of one path: the file is always one whole model.
  for round in 1 2 3 4; do
    "$emcluster" kmeans huge.csv -k 3 -q --seed 1 --save-training-labels --model two.json &
    a=$!
    "$emcluster" kmeans huge.csv -k 4 -q --seed 2 --save-training-labels --model two.json &
    b=$!
    wait "$a" "$b"
    whole_model two.json || fail "round $round: two writers left a broken file"
  done
  # save_model from C++ has the same property (the reference saves through the library).
  "$reference" save-model data.csv lib.json || fail "the reference could not save"
  whole_model lib.json || fail "lib.json is not a whole model"
  ;;

# ---- Items 6, 10, 15: files as people have them -----------------------------------------------
formats)
  # 6. R's write.csv row names are left out with a note; select then finds faithful's tied k = 3
  #    (mclust's EEE 3) in every layout R writes.
  for f in faithful_write_csv.csv faithful_write_csv2.csv faithful_write_table.txt \
    faithful_tab.tsv faithful_plain.csv; do
    run 0 select "$data/$f" --k 1:5
    has err.txt "select: best BIC"
    has err.txt "k = 3, tied"
    has err.txt "272 rows x 2 columns"
    [ "$f" = faithful_plain.csv ] || has err.txt "left out field 1: row names"
    has out.txt "top 3 by BIC"
  done
  run 0 kmeans "$data/faithful_write_csv2.csv" -k 2 -q
  run 0 kmeans "$data/faithful_write_csv2.csv" -k 2
  has err.txt "delimiter ';' (detected), decimal comma (detected)"
  run 0 kmeans "$data/faithful_tab.tsv" -k 2
  has err.txt "delimiter tab (detected)"
  for f in quakes.csv airquality.csv; do
    run 0 kmeans "$data/$f" -k 2 --drop-bad-rows
    has err.txt "left out field 1: row names"
  done
  # A column of text (iris's Species) is left out with a note naming it; --columns keeps a
  # row-name column when asked.
  run 0 kmeans "$data/iris.csv" -k 3
  has err.txt "left out field 6 (\"Species\"): text (\"setosa\" in the first data row)"
  has err.txt "150 rows x 4 columns"
  run 0 kmeans "$data/faithful_write_csv.csv" -k 2 --columns 0,1
  has err.txt "272 rows x 2 columns"
  run 1 kmeans "$data/iris.csv" -k 3 --columns Sepal.Length,Species
  has err.txt "expected a number in field 6 (\"Species\"), found \"setosa\""
  # 10. A first row of numbers and NA is data, not a header (it is said so).
  printf 'NA,2\n1,2\n3,4\n5,6\n' >na_first.csv
  run 1 kmeans na_first.csv -k 1
  has err.txt "na_first.csv:1:1: missing value \"NA\" in field 1: expected a number"
  run 0 kmeans na_first.csv -k 1 --drop-bad-rows --labels l.csv
  has err.txt "no header row (the first row holds numbers)"
  has l.csv "1,"
  [ "$(lines l.csv)" = 5 ] || fail "na_first: $(lines l.csv) lines"
  run 0 kmeans data.csv -k 2 -q
  run 0 kmeans data.csv -k 2
  has err.txt "data.csv: header row (detected), delimiter ',' (detected); columns used: x, y"
  # 15. Files that are not CSV text are named for what they are.
  gzip -c data.csv >data.csv.gz
  run 1 kmeans data.csv.gz -k 2
  has err.txt "data.csv.gz: is gzip-compressed"
  gzip -dc data.csv.gz | "$emcluster" kmeans - -k 2 -q >l.csv 2>err.txt ||
    fail "kmeans - from a pipe: $(cat err.txt)"
  [ "$(lines l.csv)" = 1831 ] || fail "stdin: $(lines l.csv) lines"
  iconv -f UTF-8 -t UTF-16 data.csv >utf16.csv
  run 1 kmeans utf16.csv -k 2
  has err.txt "utf16.csv: is UTF-16 text"
  head -c 3000 "$emcluster" >binary.csv
  run 1 kmeans binary.csv -k 2
  has err.txt "binary.csv: is a binary file"
  run 1 kmeans "$work" -k 2
  has err.txt "is a directory"
  mkdir model_dir
  run 1 predict model_dir data.csv
  has err.txt "model_dir: is a directory"
  # NPY by its magic bytes (.NPY in capitals, no extension), integers read exactly, stdin.
  "$reference" write-npy data.csv data.NPY
  cp data.NPY data_noext
  "$emcluster" kmeans data.csv -k 3 --seed 4 -q >from_csv.csv
  for f in data.NPY data_noext; do
    run 0 kmeans "$f" -k 3 --seed 4 -q
    cp out.txt from_npy.csv
    same from_npy.csv from_csv.csv
  done
  "$emcluster" kmeans - -k 3 --seed 4 -q <data.NPY >from_stdin.csv 2>err.txt ||
    fail "NPY from stdin: $(cat err.txt)"
  same from_stdin.csv from_csv.csv
  run 0 kmeans "$data/../../../tests/data/npy/int_i8.npy" -k 1 -q
  run 1 kmeans "$data/../../../tests/data/npy/int_double_inexact.npy" -k 1
  has err.txt "not exactly representable in double"
  # Delimiters given, and the hint for decimal commas read with points.
  printf 'a;b\n1;2\n1,5;3\n' >semi.csv
  run 1 kmeans semi.csv -k 1 --delimiter ';' --columns b,a
  has err.txt "semi.csv:3:1: expected a number in field 1 (\"a\"), found \"1,5\" (a decimal comma?"
  run 0 kmeans semi.csv -k 1 --delimiter ';' --decimal-comma --columns b,a -q
  run 2 kmeans semi.csv -k 1 --delimiter , --decimal-comma
  printf 'a\tb\n1,5\t2\n' >tab_comma.tsv
  run 0 kmeans tab_comma.tsv -k 1 --decimal-comma --delimiter tab -q
  ;;

# ---- Items 7, 8, 9, 11, 14: a model knows its data ------------------------------------------
models)
  # 7. Columns by name: another order gives the same labels; a missing column is named.
  run 0 gmm "$data/faithful_plain.csv" -k 3 --standardize --model f.json --labels fit.csv -q
  has f.json '"feature_names":["eruptions","waiting"]'
  run 0 predict f.json "$data/faithful_swapped.csv" -o swapped.csv
  same swapped.csv fit.csv
  run 0 predict f.json "$data/faithful_write_csv.csv" -o rnames.csv -q
  same rnames.csv fit.csv
  run 1 predict f.json "$data/iris.csv"
  has err.txt "has no column \"eruptions\", \"waiting\" of the model"
  # Without names (a headerless file), the count is checked.
  tail -n +2 "$data/faithful_plain.csv" >headerless.csv
  run 0 gmm headerless.csv -k 3 --standardize --model h.json -q
  hasnt h.json feature_names
  run 1 predict h.json "$data/iris.csv" --columns 1,2,3
  has err.txt "has 3 columns"
  has err.txt "fitted on 2"
  run 0 predict h.json headerless.csv -o h_labels.csv -q
  # plot and score select the model's columns by name too.
  run 0 score f.json "$data/faithful_swapped.csv"
  cp out.txt swapped_score.txt
  run 0 score f.json "$data/faithful_plain.csv"
  same out.txt swapped_score.txt
  run 0 plot "$data/faithful_swapped.csv" --labels fit.csv --model f.json -o p.svg -q
  # 9. The score of a standardized mixture is in the data's units (checked against the
  #    density computed directly from the raw-unit parameters), with BIC and AIC.
  run 0 score f.json "$data/faithful_plain.csv"
  has out.txt "(in the data's units)"
  has out.txt "BIC "
  has out.txt "AIC "
  got=$(sed -n 's/^mean log-likelihood \([^ ]*\) (in the data.s units)$/\1/p' out.txt)
  want=$("$reference" raw-log-likelihood f.json "$data/faithful_plain.csv")
  awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-9 * (b < 0 ? -b : b)) }' ||
    fail "score in the data's units: $got, computed directly: $want"
  run 0 gmm "$data/faithful_plain.csv" -k 3 --standardize
  has err.txt "(in the data's units; standardized: mean log-likelihood"
  # 8. Hand-edited models that contradict themselves are refused.
  sed 's/"covariances":\[\[\[\([0-9.e-]*\)/"covariances":[[[7\1/' f.json >edited.json
  cmp -s f.json edited.json && fail "the edit did not apply"
  run 1 predict edited.json "$data/faithful_plain.csv"
  has err.txt "does not match its covariance"
  run 1 sample edited.json -n 3
  run 0 kmeans data.csv -k 2 --model k.json -q
  sed 's/"centers":\[\[[^],]*/"centers":[[1e308/' k.json >huge_centre.json
  run 1 score huge_centre.json data.csv
  has err.txt "the squared norm of centre 0 is beyond the range of double"
  hasnt err.txt "nan"
  # 11. Seeds outside [0, 2^64) are refused; the largest is accepted.
  for s in -1 99999999999999999999 18446744073709551616 1.5 abc; do
    run 2 kmeans data.csv -k 2 --seed "$s"
    has err.txt "--seed: expected an integer from 0 to 18446744073709551615"
  done
  run 0 kmeans data.csv -k 2 --seed 18446744073709551615 -q
  run 2 sample f.json -n 2 --seed -1
  run 2 generate --article -o g.csv --seed -5
  # 14. K-means model files leave the training labels out unless asked.
  run 0 kmeans data.csv -k 3 --model small.json -q
  hasnt small.json '"labels"'
  run 0 kmeans data.csv -k 3 --model full.json --save-training-labels -q
  has full.json '"labels":['
  "$emcluster" predict small.json data.csv -o a.csv -q
  "$emcluster" predict full.json data.csv -o b.csv -q
  same a.csv b.csv
  # A sample carries the model's column names.
  run 0 sample f.json -n 3 --seed 1
  has out.txt "eruptions,waiting,component"
  ;;

# ---- Item 5: dropped rows keep their place ---------------------------------------------------
alignment)
  aq="$data/airquality.csv"
  run 0 kmeans "$aq" -k 2 --drop-bad-rows --labels km.csv --model km.json
  has err.txt "dropped 42 of 153 rows"
  [ "$(lines km.csv)" = 154 ] || fail "kmeans labels: $(lines km.csv) lines for 153 rows"
  head -1 km.csv | grep -qx 'row,label' || fail "header: $(head -1 km.csv)"
  grep -qx '5,' km.csv || fail "row 5 (NA) is not marked dropped"
  grep -q '^1,[01]$' km.csv || fail "row 1 has no label"
  [ "$(grep -c ',$' km.csv)" = 42 ] || fail "$(grep -c ',$' km.csv) empty labels, expected 42"
  run 0 gmm "$aq" -k 2 --drop-bad-rows --labels g.csv --proba p.csv -q
  [ "$(lines p.csv)" = 154 ] || fail "probabilities: $(lines p.csv) lines"
  head -1 p.csv | grep -qx 'row,p0,p1' || fail "proba header: $(head -1 p.csv)"
  grep -qx '5,,' p.csv || fail "row 5 of the probabilities is not marked dropped"
  run 0 select "$aq" --k 1:2 --covariance full --drop-bad-rows --labels s.csv
  [ "$(lines s.csv)" = 154 ] || fail "select labels: $(lines s.csv) lines"
  has err.txt "dropped 42 of 153 rows"
  run 0 predict km.json "$aq" --drop-bad-rows -o pr.csv
  has err.txt "dropped 42 of 153 rows"
  same pr.csv km.csv
  run 1 predict km.json "$aq"
  has err.txt "missing value \"NA\" in field 2 (\"Ozone\")"
  # Plot reads the row-numbered labels back, matched to the rows kept.
  run 0 plot "$aq" --drop-bad-rows --labels km.csv --model km.json -o aq.svg -q
  run 1 plot "$aq" --columns Wind,Temp --labels km.csv -o aq.svg -q
  has err.txt "row 5 of the data has no label here"
  # Without dropped rows nothing changes: no row column.
  run 0 kmeans data.csv -k 2 --labels plain.csv -q
  head -1 plain.csv | grep -qx 'label' || fail "plain header: $(head -1 plain.csv)"
  ;;

# ---- Items 12, 15: messages that point the right way -----------------------------------------
messages)
  run 2 kmeans data.csv -k 2.5
  has err.txt "emcluster kmeans: --clusters: expected an integer from 1 to 1000000, got '2.5'"
  has err.txt "Run 'emcluster kmeans --help' for its options."
  [ "$(lines err.txt)" = 2 ] || fail "a usage error printed $(lines err.txt) lines"
  run 2 kmeans data.csv -k 0
  run 2 gmm data.csv -k 2 --tol -1
  has err.txt "--tol: expected a number >= 0, got -1"
  hasnt err.txt "00000000000"
  run 2 generate --article -o g.csv --scale 0
  has err.txt "--scale: expected a number > 0, got 0"
  run 2 select data.csv --k 3,3,2
  has err.txt "--k: 3 is listed twice"
  run 2 select data.csv --k 2:1
  run 2 kmeans data.csv
  has err.txt "--clusters is required"
  run 2 gmm data.csv -k 2 --covariance round
  run 2 kmeans data.csv -k 2 --delimiter ab
  run 2
  has err.txt "A subcommand is required"
  run 0 kmeans --help
  has out.txt "Example:"
  # No C++ names in messages: the command's options and the file instead.
  printf 'x,y\n1,1\n1,2\n1,3\n' >constant.csv
  run 1 gmm constant.csv -k 1 --noise
  has err.txt "constant.csv: column 1 (\"x\") is constant"
  run 1 kmeans constant.csv -k 5
  has err.txt "constant.csv: has 3 rows, fewer than -k 5 needs"
  run 1 select constant.csv --k 1:5
  run 0 kmeans data.csv -k 2 --model k2.json -q
  printf 'a,b,c\n1,2,3\n' >three.csv
  run 1 predict k2.json three.csv --columns 0,1,2
  has err.txt "three.csv: has 3 columns"
  printf 'a,b\n1,1\n1,1\n1,1\n' >same.csv
  run 1 gmm same.csv -k 2 --reg-covar 0
  for word in "GaussianMixture<" "KMeans<" "Options::" "X has" "::fit" "n_components" \
    "reg_covar"; do
    hasnt all_err.txt "$word"
  done
  run 1 kmeans missing.csv -k 1
  has err.txt "missing.csv: cannot open for reading"
  ;;

# ---- Item 13: sizes that scale ---------------------------------------------------------------
sizes)
  "$emcluster" generate --article --scale 20 -o big.csv # 36600 rows
  "$emcluster" kmeans big.csv -k 3 -q --labels big_labels.csv
  run 0 plot big.csv --labels big_labels.csv -o big.svg --max-points 5000
  n=$(grep -c '<circle' big.svg)
  [ "$n" -le 5000 ] || fail "the plot drew $n points, more than --max-points 5000"
  [ "$n" -ge 4990 ] || fail "the plot drew $n points"
  has big.svg "5000 of 36600 points drawn (a uniform random subset)"
  run 0 plot big.csv --labels big_labels.csv -o big2.svg --max-points 5000
  same big.svg big2.svg
  run 0 plot big.csv --labels big_labels.csv -o all.svg --max-points 0
  [ "$(grep -c '<circle' all.svg)" -ge 36600 ] || fail "--max-points 0 did not draw every point"
  # Each axis is scaled to the data: faithful (eruptions 1.6..5.1, waiting 43..96) fills the
  # panel both ways; with --equal-axes the x extent is a sliver.
  f="$data/faithful_plain.csv"
  "$emcluster" kmeans "$f" -k 2 -q --labels fl.csv
  extent() { # the x extent of the drawn points, in pixels
    sed -n 's/.*<circle cx="\([0-9.]*\)".*/\1/p' "$1" | sort -n | sed -n '1p;$p' |
      awk 'NR==1{a=$1} NR==2{print int($1-a)}'
  }
  run 0 plot "$f" --labels fl.csv -o wide.svg
  run 0 plot "$f" --labels fl.csv -o equal.svg --equal-axes
  [ "$(extent wide.svg)" -gt 300 ] || fail "x extent $(extent wide.svg) px with per-axis scales"
  [ "$(extent equal.svg)" -lt 60 ] || fail "x extent $(extent equal.svg) px with --equal-axes"
  # 14. A K-means model file of many rows holds its centres, not a label per row.
  run 0 kmeans big.csv -k 3 --model big.json -q
  [ "$(stat -c %s big.json)" -lt 2000 ] || fail "big.json is $(stat -c %s big.json) bytes"
  ;;

# ---- Item 12: long work shows progress ------------------------------------------------------
progress)
  "$emcluster" generate --article --scale 40 -o mid.csv # 73200 rows
  # Reading standard input that arrives slowly: the reading phase is shown once the command
  # has run a second (plain lines, stderr not being a terminal), then the fit's summary.
  { head -n 200 data.csv; sleep 2; tail -n +201 data.csv; } |
    "$emcluster" kmeans - -k 3 --labels /dev/null >out.txt 2>err.txt || fail "slow stdin"
  has err.txt "reading standard input ["
  has err.txt "kmeans: k = 3"
  # k-means++ seeding of many centres takes seconds: its phase is shown. The smallest k
  # whose seeding lasts past the first second (a sanitizer build is much slower).
  seen=0
  for k in 250 500 1000 2000 4000; do
    run 0 kmeans mid.csv -k "$k" --n-init 1 --max-iter 1 --labels /dev/null
    if grep -qF "kmeans: seeding the first restart (k-means++, k = $k) [" err.txt; then
      seen=1
      break
    fi
  done
  [ "$seen" = 1 ] || fail "no seeding progress up to k = 4000: $(cat err.txt)"
  run 0 kmeans mid.csv -k "$k" --n-init 1 --max-iter 1 --labels /dev/null -q
  [ -s err.txt ] && fail "--quiet printed: $(head -c 300 err.txt)"
  ;;
*)
  echo "unknown mode $mode" >&2
  exit 2
  ;;
esac

if [ "$failures" -gt 0 ]; then
  echo "cli_files $mode: $failures failures" >&2
  exit 1
fi
echo "cli_files $mode: passed"
