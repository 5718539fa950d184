#!/usr/bin/env bash
# Babel message catalogs for Tiaojie (调解通).
#
#   scripts/i18n.sh extract   # templates + code -> app/locale/messages.pot
#   scripts/i18n.sh update    # extract, then merge into zh_Hans and en .po files
#   scripts/i18n.sh compile   # .po -> .mo for every locale (non-zero on any error)
#   scripts/i18n.sh check     # exit 1 listing msgids without a zh_Hans translation
#
# Message ids are English; zh_Hans (the default UI language) must translate every
# one of them. The en catalog exists so negotiation is uniform; its msgstrs stay
# empty (app/i18n.py serves English through NullTranslations).
#
# Environment: PYBABEL (default .venv/bin/pybabel), PYTHON (default: the python
# next to PYBABEL, else .venv/bin/python, else python3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYBABEL=${PYBABEL:-.venv/bin/pybabel}
if [[ -z ${PYTHON:-} ]]; then
    if [[ $PYBABEL == */* && -x $(dirname "$PYBABEL")/python ]]; then
        PYTHON=$(dirname "$PYBABEL")/python
    elif [[ -x .venv/bin/python ]]; then
        PYTHON=.venv/bin/python
    else
        PYTHON=python3
    fi
fi

LOCALE_DIR=app/locale
POT=$LOCALE_DIR/messages.pot
DOMAIN=messages
LOCALES=(zh_Hans en)
# An explicit `-k ngettext` would drop the plural argument: keep the 1,2 spec.
KEYWORDS=(-k _ -k gettext -k ngettext:1,2 -k lazy_gettext -k _l)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tiaojie-i18n.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

die() { echo "i18n: $*" >&2; exit 2; }

[[ -x $PYBABEL ]] || command -v "$PYBABEL" >/dev/null 2>&1 \
    || die "pybabel not found at '$PYBABEL' (set PYBABEL, or create the venv: uv sync)"

# extract_to FILE: write a fresh template of every UI string to FILE.
extract_to() {
    "$PYBABEL" -q extract \
        --mapping-file=babel.cfg \
        "${KEYWORDS[@]}" \
        --add-comments=TRANSLATORS: \
        --no-location \
        --sort-output \
        --ignore-dirs='.* ._ __pycache__ node_modules tests static var' \
        --project=Tiaojie \
        --version="${VERSION:-0}" \
        --copyright-holder='Tiaojie contributors' \
        --output-file="$1" \
        .
}

# The POT-Creation-Date changes on every run; don't rewrite the committed
# template (and so the .po headers) unless a message actually changed.
_strip_date() { grep -v '^"POT-Creation-Date: ' "$1" || true; }

cmd_extract() {
    mkdir -p "$LOCALE_DIR"
    extract_to "$TMP/messages.pot"
    if [[ -f $POT ]] && cmp -s <(_strip_date "$POT") <(_strip_date "$TMP/messages.pot"); then
        echo "i18n: $POT is up to date"
    else
        cp "$TMP/messages.pot" "$POT"
        echo "i18n: wrote $POT ($(grep -c '^msgid "' "$POT") entries incl. header)"
    fi
}

# Reading the template (msgstr[0] and msgstr[1]) into zh_Hans (one plural form)
# makes Babel warn once per plural entry; that is expected, drop the noise.
_quiet() {
    grep -v -E -e '^WARNING: msg has more translations than num_plurals of catalog$' \
        -e "^WARNING: Problem on line [0-9]+: ''$" || true
}

cmd_update() {
    cmd_extract
    local loc
    for loc in "${LOCALES[@]}"; do
        if [[ ! -f $LOCALE_DIR/$loc/LC_MESSAGES/$DOMAIN.po ]]; then
            "$PYBABEL" init -i "$POT" -d "$LOCALE_DIR" -D "$DOMAIN" -l "$loc" 2> >(_quiet >&2)
        fi
        "$PYBABEL" update -i "$POT" -d "$LOCALE_DIR" -D "$DOMAIN" -l "$loc" \
            --no-fuzzy-matching --ignore-obsolete 2> >(_quiet >&2)
    done
}

cmd_compile() {
    local loc po mo status=0
    "$PYBABEL" compile -d "$LOCALE_DIR" -D "$DOMAIN" --statistics || status=$?
    # pybabel skips (silently, exit 0) a catalog whose header is marked fuzzy.
    for loc in "${LOCALES[@]}"; do
        po=$LOCALE_DIR/$loc/LC_MESSAGES/$DOMAIN.po
        mo=$LOCALE_DIR/$loc/LC_MESSAGES/$DOMAIN.mo
        if [[ ! -f $po ]]; then
            echo "i18n: missing $po (run: scripts/i18n.sh update)" >&2
            status=1
        elif [[ ! -f $mo || $mo -ot $po ]]; then
            echo "i18n: $mo was not compiled (is the catalog marked fuzzy?)" >&2
            status=1
        fi
    done
    if [[ $status -ne 0 ]]; then
        echo "i18n: compile failed" >&2
        exit 1
    fi
}

cmd_check() {
    extract_to "$TMP/messages.pot"
    "$PYTHON" - "$TMP/messages.pot" "$LOCALE_DIR/zh_Hans/LC_MESSAGES/$DOMAIN.po" <<'PY'
"""List every extracted msgid that zh_Hans does not translate (or only fuzzily)."""
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")

pot_path, po_path = sys.argv[1], Path(sys.argv[2])
with open(pot_path, "rb") as f:
    template = read_po(f)
if not po_path.exists():
    print(f"{po_path} does not exist (run: scripts/i18n.sh update)")
    sys.exit(1)
with open(po_path, "rb") as f:
    catalog = read_po(f, locale="zh_Hans")


def show(msgid):
    return " | ".join(msgid) if isinstance(msgid, tuple) else msgid


def names(text):
    return sorted(PLACEHOLDER.findall(text or ""))


problems = []
if catalog.fuzzy:
    problems.append(("fuzzy", "<catalog header>"))
for message in template:
    if not message.id:
        continue
    current = catalog.get(message.id, message.context)
    if current is None:
        problems.append(("not in zh_Hans .po (run scripts/i18n.sh update)", message.id))
        continue
    strings = current.string if isinstance(current.string, (list, tuple)) else [current.string]
    if not all(s and s.strip() for s in strings):
        problems.append(("untranslated", message.id))
        continue
    ids = current.id if isinstance(current.id, (list, tuple)) else [current.id]
    expected = names(ids[-1])
    if any(names(s) != expected for s in strings):
        problems.append(("placeholders differ from the msgid", message.id))
for message in catalog:
    if message.id and message.fuzzy:
        problems.append(("fuzzy", message.id))
# python-format and other Babel checks (a bad placeholder would crash gettext)
for message, errors in catalog.check():
    for error in errors:
        problems.append((f"invalid: {error}", message.id))

if problems:
    print(f"{len(problems)} problem(s) in {po_path}:")
    for why, msgid in problems:
        print(f"  [{why}] {show(msgid)!r}")
    print("Run scripts/i18n.sh update, translate the entries above, then scripts/i18n.sh check.")
    sys.exit(1)
print(f"i18n: all {sum(1 for m in template if m.id)} msgids are translated in {po_path}")
PY
}

case ${1:-} in
    extract) cmd_extract ;;
    update) cmd_update ;;
    compile) cmd_compile ;;
    check) cmd_check ;;
    *)
        echo "usage: scripts/i18n.sh {extract|update|compile|check}" >&2
        exit 2
        ;;
esac
