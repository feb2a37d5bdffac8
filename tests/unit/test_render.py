"""The review document (`privacy-rules render`): content, order, languages, escaping, CLI, browser.

The browser test opens the HTML in headless Chromium (Debian's `chromium`; `.ci/run` installs
it) and reads back the DOM it built, so it checks what a reviewer's browser shows, not only that
a file was written; it also prints the document to PDF.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

import privacy_rules
from privacy_rules.cli.main import main
from privacy_rules.model import Action, Effect
from privacy_rules.render import render_pack
from privacy_rules.scenarios import run_pack_scenarios

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"mini": ROOT / "tests" / "packs" / "mini", "iconfirm": ROOT / "rules" / "iconfirm"}
EFFECT_RANK = {Effect.OVERRIDE: 0, Effect.FORBID: 1, Effect.PERMIT: 2, Effect.OBLIGATION: 3}


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # rule and scenario locations print relative to the working folder


@pytest.fixture(scope="module")
def packs():
    out = {}
    for name, path in PACKS.items():
        pack = privacy_rules.load_pack(path.relative_to(ROOT))
        report = run_pack_scenarios(privacy_rules.compile_pack(pack))
        out[name] = (pack, report)
    return out


class _Doc(HTMLParser):
    """What a reviewer sees, read back from HTML: rules per question section, table rows, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str | None] = []
        self.rules: dict[str, str | None] = {}  # rule id -> question of the enclosing section
        self.rule_order: list[str] = []
        self.table: str | None = None
        self.rows: dict[str, list[str]] = {}
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.html_lang: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "html":
            self.html_lang = a.get("lang")
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src", "srcset", "action", "poster", "data"):
            if key in a:
                self.links.append((tag, key, a[key] or ""))
        if tag == "section":
            self.sections.append(a.get("data-question"))
        elif tag == "article" and "data-rule-id" in a:
            question = next((q for q in reversed(self.sections) if q), None)
            self.rules[a["data-rule-id"]] = question
            self.rule_order.append(a["data-rule-id"])
        elif tag == "table":
            self.table = a.get("data-table")
        elif tag == "tr" and self.table and "data-key" in a:
            self.rows.setdefault(self.table, []).append(a["data-key"])

    def handle_endtag(self, tag):
        if tag == "section" and self.sections:
            self.sections.pop()
        elif tag == "table":
            self.table = None


def _parse(text: str) -> _Doc:
    doc = _Doc()
    doc.feed(text)
    doc.close()
    return doc


def _unescape(text: str, fmt: str) -> str:
    """Text as a reader sees it: entities decoded; in Markdown, backslash escapes dropped too."""
    if fmt == "markdown":
        text = re.sub(r"\\(.)", r"\1", text)
    return html.unescape(text)


def _assert_rules_in_sections_and_order(doc: _Doc, pack) -> None:
    assert set(doc.rules) == {r.id for r in pack.rules}
    for r in pack.rules:
        assert doc.rules[r.id] == r.question.value, r.id
    # keep, contact, share; inside each, override > forbid > permit > obligation, then pack order
    expected = [r.id for q in (Action.KEEP, Action.CONTACT, Action.SHARE)
                for r in sorted((r for r in pack.rules if r.question is q), key=lambda r: (EFFECT_RANK[r.effect], r.order))]
    assert doc.rule_order == expected


# --- the document's content ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nb"])
@pytest.mark.parametrize("fmt", ["html", "markdown"])
@pytest.mark.parametrize("name", ["mini", "iconfirm"])
def test_every_rule_and_vocabulary_entry_is_rendered(packs, name, fmt, lang):
    pack, report = packs[name]
    text = render_pack(pack, lang=lang, fmt=fmt, report=report)
    shown = _unescape(text, fmt)
    for rule in pack.rules:
        assert rule.id in text
        explain = rule.explain.get(lang)
        if explain:
            assert " ".join(explain.split())[:60] in shown
        if rule.span:
            assert f"{rule.span.file}:{rule.span.line}" in text
    for rid in pack.vocabulary.recipients:
        assert rid in text
    assert pack.version in text
    heading = {"en": "Rules by question", "nb": "Regler per spørsmål"}[lang]
    assert heading in text
    # every rule is exercised or listed as not exercised
    for rid in report.coverage.rules_unexercised:
        assert f"rule-{rid}" in text


@pytest.mark.parametrize("name", ["mini", "iconfirm"])
def test_html_sections_order_and_no_external_urls(packs, name):
    pack, report = packs[name]
    for lang in ("en", "nb"):
        doc = _parse(render_pack(pack, lang=lang, report=report))
        assert doc.html_lang == lang
        _assert_rules_in_sections_and_order(doc, pack)
        assert doc.rows["recipients"] == list(pack.vocabulary.recipients)
        assert doc.rows["windows"] == list(pack.vocabulary.windows)
        for tag, attr, value in doc.links:
            assert "http" not in value and "//" not in value, (tag, attr, value)
            assert value.startswith("#") and value[1:] in doc.ids, f"broken anchor {value}"
        assert not doc.tags & {"script", "link", "img", "iframe", "object", "embed"}


@pytest.mark.parametrize("name", ["mini", "iconfirm"])
def test_markdown_links_stay_inside_the_document(packs, name):
    pack, report = packs[name]
    text = render_pack(pack, lang="en", fmt="markdown", report=report)
    targets = re.findall(r"\]\(([^)]*)\)", text)
    assert targets and all(t.startswith("#") for t in targets)
    ids = set(re.findall(r'<a id="([^"]+)"></a>', text))
    assert {t[1:] for t in targets} <= ids
    assert "http" not in "".join(targets)


def test_conditions_in_plain_words_in_both_languages(packs):
    pack, report = packs["mini"]
    en = render_pack(pack, lang="en", report=report)
    nb = render_pack(pack, lang="nb", report=report)
    assert "within the window" in en and "24 months from" in en
    assert "relationship.first_contact_on" in en
    assert "innenfor fristen" in nb and "24 måneder fra" in nb
    assert "the person objects to direct marketing (Art. 21(2))" in en
    assert "innsigelse mot direkte markedsføring (art. 21(2))" in nb
    assert "potensielle kunder i 24 måneder" in nb  # the rule's own nb explanation
    assert "Tillatelse" in nb and "Overstyrer" in nb


def test_iconfirm_citations_basis_and_review_metadata(packs):
    pack, report = packs["iconfirm"]
    text = render_pack(pack, lang="en", fmt="html", report=report)
    rule = pack.rule("keep.prospect-window")
    assert f"<blockquote class=\"quote\">{rule.citation.quote}</blockquote>" in text
    assert "eu-gdpr:A6-1-f" in text and "Art. 6(1)(f)" in text
    assert "2027-11-25" in text  # next review
    assert "Iconfirm AS" in text
    # negations read as sentences, not "not: ..."
    assert "the date <code>relationship.role_ended_on</code> has not come" in text
    assert "keeping the record is not allowed" in text


def test_coverage_lists_unexercised_rules_and_uncited_norms(packs):
    pack, report = packs["mini"]
    text = render_pack(pack, lang="en", report=report)
    coverage = text[text.index('<section id="coverage">'):]
    assert report.coverage.rules_unexercised
    for rid in report.coverage.rules_unexercised:
        assert f'href="#rule-{rid}"' in coverage
    assert "No scenario exercises this rule." in text
    # a rule some scenario exercises names the scenario and where it stands
    assert "prospect kept on the last day" in text and "tests/packs/mini/scenarios/basic.yaml:9" in text


def test_without_a_report_says_scenarios_were_not_run_and_no_date_unless_given(packs):
    pack, _ = packs["mini"]
    text = render_pack(pack, lang="en")
    assert "Scenarios were not run for this document." in text
    assert "Generated for" not in text
    from datetime import date

    dated = render_pack(pack, lang="nb", as_of=date(2025, 1, 31))
    assert "Laget for dato" in dated and "2025-01-31" in dated


def test_render_is_deterministic_and_rejects_unknown_options(packs):
    pack, report = packs["iconfirm"]
    assert render_pack(pack, report=report) == render_pack(pack, report=report)
    with pytest.raises(ValueError, match="language"):
        render_pack(pack, lang="de")
    with pytest.raises(ValueError, match="format"):
        render_pack(pack, fmt="pdf")


# --- absent dates that mean "has not happened" (README, rule-language.md §2) -----------------

# Written out by hand from the packs' windows and rules, so that the test does not trust the
# derivation it checks: windows with open_if_absent (customer_tail, cooperation_tail, role_tail)
# and every `happened:` path of the rule files, negated or not, and every record day a `compare`
# with `if_absent: false` reads ...
ABSENT_DECLARED = {
    "iconfirm": {"relationship.customer_ended_on", "relationship.cooperation_ended_on", "relationship.role_ended_on",
                 "relationship.inbound_request_on", "art14_informed_on", "facts.deletion_instructed_on",
                 "relationship.customer_since"},  # READINGS #42: absent = not signed again after an end
    "mini": {"relationship.customer_ended_on"},
}
# ... and the end dates of list entries that the condition kinds the rules use read as "has not
# happened" (every kind in Iconfirm; consent, objection and erasure in mini). The record schema
# says "Null: not withdrawn" (and so on) for each of these fields.
ENTRY_DATES = {"consents[].withdrawn_on", "objections[].withdrawn_on", "objections[].compelling_grounds_on",
               "restrictions[].lifted_on", "erasure_requests[].verified_on", "erasure_requests[].answered_on",
               "erasure_requests[].compelling_grounds_on", "rights_requests[].verified_on",
               "rights_requests[].answered_on", "legal_holds[].released_on",
               "erasure_requests[].extended_on", "rights_requests[].extended_on"}  # N43: not extended
ABSENT = {
    "iconfirm": ABSENT_DECLARED["iconfirm"] | ENTRY_DATES,
    "mini": ABSENT_DECLARED["mini"] | {"consents[].withdrawn_on", "objections[].withdrawn_on",
                                       "objections[].compelling_grounds_on", "erasure_requests[].verified_on",
                                       "erasure_requests[].compelling_grounds_on"},
}


# The declared facts with `if_absent`, listed in the same table (vocabulary.facts:
# unsubscribed_from_all_email reads as false when absent, READINGS.md #25).
ABSENT_VALUES = {"iconfirm": {"facts.unsubscribed_from_all_email"}, "mini": set()}


def _markdown_absent_rows(text: str) -> set[str]:
    section = text[text.index('<a id="absent-dates"></a>'):text.index('<a id="questions"></a>')]
    return set(re.findall(r'^\| <a id="absent-[^"]+"></a>`([^`]+)` \|', section, flags=re.MULTILINE))


@pytest.mark.parametrize("lang", ["en", "nb"])
@pytest.mark.parametrize("name", ["mini", "iconfirm"])
def test_absent_dates_that_mean_not_happened_are_listed_exactly(packs, name, lang):
    pack, report = packs[name]
    doc = _parse(render_pack(pack, lang=lang, report=report))
    rows = ABSENT[name] | ABSENT_VALUES[name]
    assert set(doc.rows["absent_dates"]) == rows
    assert len(doc.rows["absent_dates"]) == len(rows)
    assert _markdown_absent_rows(render_pack(pack, lang=lang, fmt="markdown", report=report)) == rows


def test_absent_dates_name_their_windows_and_rules(packs):
    pack, report = packs["iconfirm"]
    text = render_pack(pack, lang="en", report=report)
    section = text[text.index('<section id="absent-dates">'):text.index('<main id="questions">')]
    assert "lead to allow" in section
    row = section[section.index('data-key="relationship.customer_ended_on"'):]
    row = row[:row.index("</tr>")]
    # R3 (READINGS #36): the end day is compared with as_of (`if_absent: false`), not `happened`
    assert 'href="#window-customer_tail"' in row and "<code>compare</code>" in row and "<code>happened</code>" not in row
    assert 'href="#rule-keep.customer-relationship"' in row and 'href="#rule-keep.processor-end-of-service"' in row
    row = section[section.index('data-key="facts.deletion_instructed_on"'):]
    row = row[:row.index("</tr>")]
    assert "window" not in row and 'href="#rule-keep.processor-deletion-instructed"' in row
    nb = render_pack(pack, lang="nb", report=report)
    assert "Manglende datoer som betyr «har ikke skjedd»" in nb and "fristen <a href=\"#window-role_tail\">" in nb


def test_absent_dates_are_derived_from_any_pack(tmp_path):
    """A list window with open_if_absent is no exception (no entries = no window); nested happened is."""
    folder = tmp_path / "mini"
    shutil.copytree(PACKS["mini"], folder)
    head = (folder / "pack.yaml").read_text(encoding="utf-8")
    head = head.replace("customer_tail: {from: relationship.customer_ended_on, years: 3, open_if_absent: true}",
                        "customer_tail: {from: relationship.customer_ended_on, years: 3}")
    head = head.replace('vouchers: {from: "vouchers[].fiscal_year_end", years: 5}',
                        'vouchers: {from: "vouchers[].fiscal_year_end", years: 5, open_if_absent: true}\n'
                        '    unused_open: {from: facts.contract_signed_on, months: 6, open_if_absent: true}')
    (folder / "pack.yaml").write_text(head, encoding="utf-8")
    rules = (folder / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace("      - objection: art21_2\n",
                          "      - objection: art21_2\n      - not: {any: [{happened: relationship.role_ended_on}]}\n")
    (folder / "rules.yaml").write_text(rules, encoding="utf-8")
    pack = privacy_rules.load_pack(folder)
    from privacy_rules.render._view import absent_dates

    got = {a.path: a for a in absent_dates(pack) if not a.kinds}
    assert set(got) == {"facts.contract_signed_on", "relationship.role_ended_on"}
    assert got["facts.contract_signed_on"].windows == ("unused_open",) and got["facts.contract_signed_on"].rules == ()
    assert got["relationship.role_ended_on"].happened and got["relationship.role_ended_on"].rules == ("contact.objection",)
    doc = _parse(render_pack(pack))
    assert set(doc.rows["absent_dates"]) == set(got) | (ABSENT["mini"] - ABSENT_DECLARED["mini"])


def test_pack_without_absent_dates_says_so(tmp_path):
    folder = tmp_path / "mini"
    shutil.copytree(PACKS["mini"], folder)
    head = (folder / "pack.yaml").read_text(encoding="utf-8").replace(", open_if_absent: true}", "}")
    (folder / "pack.yaml").write_text(head, encoding="utf-8")
    from dataclasses import replace

    from privacy_rules.compile.runtime import ABSENT_ENTRY_DATES
    from privacy_rules.render._view import _walk

    pack = privacy_rules.load_pack(folder)
    # and no rule with a condition that reads a list entry's end date (consent, objection ...)
    pack = replace(pack, rules=tuple(r for r in pack.rules if not any(p.kind in ABSENT_ENTRY_DATES
                                                                       for p in _walk(r.when))))
    text = render_pack(pack, lang="en")
    assert "None: in this pack every missing fact makes the rules that need it unknown." in text
    assert 'data-table="absent_dates"' not in text


def test_readme_and_rule_language_name_exactly_the_iconfirm_dates(packs):
    """The docs state the rule with the Iconfirm list; it must match what the pack says (and the document shows)."""
    from privacy_rules.render._view import absent_dates

    from privacy_rules.compile.runtime import ABSENT_ENTRY_DATES

    every = {a.path: a for a in absent_dates(packs["iconfirm"][0])}
    assert set(every) == ABSENT["iconfirm"]
    derived = {path for path, a in every.items() if not a.kinds}  # the pack's own (windows, happened)
    entries = {e for dates in ABSENT_ENTRY_DATES.values() for e in dates}  # the engine's, in every pack
    assert entries == ENTRY_DATES
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bullet = readme[readme.index("* an absent **event date**"):]
    bullet = bullet[:bullet.index("\n* ")]
    assert set(re.findall(r"`((?:relationship|facts)\.[a-z_]+|art14_informed_on)`", bullet)) == derived
    bullet = readme[readme.index("* an absent **end date of a list entry**"):]
    bullet = bullet[:bullet.index("\n\n")]
    assert set(re.findall(r"`([a-z_]+\[\]\.[a-z_]+)`", bullet)) == entries | {"vouchers[].fiscal_year_end"}
    language = (ROOT / "docs" / "rule-language.md").read_text(encoding="utf-8")
    section = language[language.index("### Absent facts"):language.index("## 3. Combining")]
    assert set(re.findall(r"^\| `([a-z0-9_.]+)` \|", section, flags=re.MULTILINE)) == derived
    item = section[section.index("3. **An end date of a list entry**"):section.index("4. **Everything else**")]
    assert set(re.findall(r"`([a-z_]+\[\]\.[a-z_]+)`", item)) == entries | {"vouchers[].fiscal_year_end"}
    values = readme[readme.index("* a pack-defined fact the pack declares with `if_absent`"):]
    values = values[:values.index("\n\n")]
    assert set(re.findall(r"`(facts\.[a-z_]+)`", values)) == ABSENT_VALUES["iconfirm"]
    assert set(re.findall(r"^\| `([a-z0-9_.]+)` \(`if_absent: [a-z0-9]+`\) \|", section, flags=re.MULTILINE)) \
        == ABSENT_VALUES["iconfirm"]
    # each condition kind is named with the dates it reads
    for kind, dates in ABSENT_ENTRY_DATES.items():
        assert f"`{kind}`" in item, kind


def test_entry_dates_are_every_optional_date_of_a_list_entry():
    # the engine's table against the record format: every optional date of a list entry is read
    # as "has not happened" when absent, but a voucher's fiscal_year_end (a default: 31 December)
    from privacy_rules.compile.runtime import ABSENT_ENTRY_DATES
    from privacy_rules.records import LIST_FIELDS

    optional = {f"{name}[].{field}" for name, (fields, required) in LIST_FIELDS.items()
                for field, kind in fields.items() if kind == "date" and field not in required}
    assert {e for dates in ABSENT_ENTRY_DATES.values() for e in dates} == optional - {"vouchers[].fiscal_year_end"}
    schema = json.loads((ROOT / "src" / "privacy_rules" / "schemas" / "record.schema.json").read_text())
    for entry in ENTRY_DATES:
        name, field = entry.split("[].")
        text = schema["properties"][name]["items"]["properties"][field]["description"]
        assert re.search(r"Null: (not|still|none)|until then", text, flags=re.IGNORECASE), entry


def _every_question(policy):
    v = policy.pack.vocabulary
    qs = [privacy_rules.Question.keep(s) for s in v.scopes]
    qs += [privacy_rules.Question.contact(p, c) for p in v.purposes for c in v.channels]
    qs += [privacy_rules.Question.share(r, p) for r in v.recipients for p in v.purposes]
    return qs


@pytest.mark.parametrize("entry", sorted(ENTRY_DATES))
def test_an_absent_entry_date_decides_as_one_after_as_of_and_the_date_matters(entry):
    # The engine's reading, measured: for every question of the Iconfirm pack, a record whose
    # entry lacks the date is decided exactly as one whose date is the day after as_of (has not
    # happened yet); with the day before as_of (has happened), some decision changes, so the
    # docs do not list a date the engine ignores.
    name, field = entry.split("[].")
    as_of = "2026-06-15"
    base = {
        "id": "p-1", "role": "controller", "subject_categories": ["customer_contact", "newsletter_subscriber"],
        "relationship": {"first_contact_on": "2024-01-10", "customer_since": "2024-03-01"},
        "source": "self",
        "consents": [{"purpose": "newsletter", "given_on": "2024-01-10"}],
        "objections": [{"kind": "art21_1", "received_on": "2026-05-01"}],
        "restrictions": [{"requested_on": "2026-05-01", "ground": "art18_1_d"}],
        "erasure_requests": [{"received_on": "2026-05-01", "verified_on": "2026-05-02"}],
        "rights_requests": [{"kind": "access", "received_on": "2026-05-01"}],
        "legal_holds": [{"placed_on": "2026-05-01", "matter": "case 1"}],
    }
    lists = [k for k in base if isinstance(base[k], list)]
    policy = privacy_rules.compile_pack(PACKS["iconfirm"].relative_to(ROOT))
    questions = _every_question(policy)

    def decisions(day, only):
        rec = json.loads(json.dumps(base))
        for other in lists:  # one list at a time: other entries would hide this one's effect
            if only is not None and other != only:
                rec.pop(other)
        rec[name][0].pop(field, None)
        if day is not None:
            rec[name][0][field] = day
        return [d.to_json() for d in policy.decide_all(rec, questions, as_of=as_of)]

    # the entry's own list only, and the entry's list with every other list (as a host sends them)
    for only in (name, None):
        absent = decisions(None, only)
        assert absent == decisions("2026-06-16", only)
    changed = any(decisions(None, only) != decisions("2026-06-14", only) for only in (name, None))
    assert changed, f"{entry}: a past date changes no decision"


# --- the policy text and the norms' sentences ----------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nb"])
@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_norms_table_shows_the_sentence_or_the_law_each_norm_rests_on(packs, fmt, lang):
    pack, report = packs["iconfirm"]
    shown = _unescape(render_pack(pack, lang=lang, fmt=fmt, report=report), fmt)
    norms = pack.meta["norms"]
    for nid, info in norms.items():
        quotes = [info["quote"]] if isinstance(info.get("quote"), str) else list(info.get("quote") or ())
        for q in quotes:
            assert f"«{' '.join(q.split())}»" in shown, nid
        if info.get("grounds"):
            assert info["grounds"] in shown, nid
    assert {"en": "Rests on (policy text, or law)", "nb": "Bygger på (erklæringstekst, eller lov)"}[lang] in shown
    # the policy text is a file in the pack, shown as such (no dangling ../../../shared path)
    assert "policy/personvernerklaering-iconfirm.txt" in shown and "shared/" not in shown
    assert {"en": "(in the pack folder)", "nb": "(i pakkemappen)"}[lang] in shown


# --- rule text is untrusted input ------------------------------------------------------------

EVIL = '<script>alert("x")</script> & <img src=x onerror=alert(1)> [click](javascript:alert(1))'


@pytest.fixture
def evil_pack(tmp_path):
    """A copy of the mini pack whose explain text, quote and a label carry markup."""
    folder = tmp_path / "evil"
    shutil.copytree(PACKS["mini"], folder)
    rules = yaml.safe_load((folder / "rules.yaml").read_text(encoding="utf-8"))
    rules["rules"][0]["explain"] = {"en": EVIL, "nb": EVIL}
    rules["rules"][0]["cites"]["quote"] = EVIL
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    head = yaml.safe_load((folder / "pack.yaml").read_text(encoding="utf-8"))
    head["vocabulary"]["purposes"]["crm"]["label"]["en"] = EVIL
    head["pack"]["name"] = EVIL
    head["pack"]["jurisdiction"] = "NO"  # PyYAML reads the unquoted NO as false (YAML 1.1); the pack loader does not
    head["pack"]["norms"] = {"N28": {"title": EVIL, "covered_by": "rules", "quote": [EVIL], "grounds": EVIL}}
    (folder / "pack.yaml").write_text(yaml.safe_dump(head, allow_unicode=True), encoding="utf-8")
    return privacy_rules.load_pack(folder)


def test_html_escapes_rule_text(evil_pack):
    for lang in ("en", "nb"):
        text = render_pack(evil_pack, lang=lang)
        assert "<script" not in text and "<img" not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in text
        doc = _parse(text)
        assert not doc.tags & {"script", "img"}
        assert all(v.startswith("#") for _, _, v in doc.links)


def test_explanation_missing_in_the_chosen_language_falls_back_and_says_so(packs):
    pack, _ = packs["mini"]
    first = dataclasses.replace(pack.rules[0], explain={"en": "prospects for 24 months"})
    text = render_pack(dataclasses.replace(pack, rules=(first, *pack.rules[1:])), lang="nb")
    assert '<p class="explain" lang="en">prospects for 24 months' in text and "bare skrevet på engelsk" in text


def test_markdown_escapes_rule_text(evil_pack):
    text = render_pack(evil_pack, fmt="markdown")
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "\\[click\\](javascript" in text  # shown as text, never a link
    assert not re.search(r"(?<!\\)\]\(javascript", text)


# --- CLI ------------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_writes_the_file(tmp_path, packs):
    target = tmp_path / "review.html"
    code, out, err = run("render", "tests/packs/mini", "--lang", "nb", "-o", str(target), "--as-of", "2025-01-31")
    assert (code, out, err) == (0, "", "")
    text = target.read_text(encoding="utf-8")
    assert '<html lang="nb">' in text and "2025-01-31" in text
    for rule in packs["mini"][0].rules:
        assert f'data-rule-id="{rule.id}"' in text
    assert [p.name for p in tmp_path.iterdir()] == ["review.html"]  # no temp file left behind


def test_cli_markdown_to_stdout_and_usage_errors():
    code, out, _ = run("render", "tests/packs/mini", "--format", "markdown", "--no-scenarios")
    assert code == 0 and out.startswith('<a id="about"></a>') and "# Policy review: Mini test pack" in out
    assert "Scenarios were not run" in out
    code, _, err = run("render", "tests/packs/mini", "--as-of", "2025-02-30")
    assert code == 2 and "--as-of" in err
    code, _, err = run("render", "tests/packs/nope")
    assert code == 2 and "invalid" in err
    code, _, err = run("render", "tests/packs/mini", "--lang", "de")
    assert code == 2


# --- in a real browser ------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's `chromium` is not installed (`apt-get install chromium`; .ci/run installs it)",
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
           f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@needs_chromium
def test_chromium_renders_the_rules_and_tables(tmp_path, packs):
    pack, report = packs["iconfirm"]
    page = tmp_path / "review.html"
    page.write_text(render_pack(pack, lang="nb", report=report), encoding="utf-8")
    done = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    doc = _parse(done.stdout)
    assert doc.html_lang == "nb"
    _assert_rules_in_sections_and_order(doc, pack)
    assert doc.rows["recipients"] == list(pack.vocabulary.recipients)
    assert doc.rows["transfer_mechanisms"] == list(pack.vocabulary.transfer_mechanisms)
    assert "HubSpot Inc." in done.stdout and "Regler per spørsmål" in done.stdout


@needs_chromium
def test_chromium_prints_the_document_to_pdf(tmp_path, packs):
    pack, report = packs["mini"]
    page = tmp_path / "review.html"
    page.write_text(render_pack(pack, lang="en", report=report), encoding="utf-8")
    pdf = tmp_path / "review.pdf"
    done = _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
