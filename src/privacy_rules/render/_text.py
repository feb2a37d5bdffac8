"""Words of the review document in English and Norwegian (bokmål): headings and condition phrases.

Data only, no logic beyond looking a phrase up. Every phrase is a ``str.format`` template whose
fields the view builder fills with segments (ids as code, labels as text), so nothing from a
rule file is ever pasted into a template string (the templates escape what they print).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

LANGS = ("en", "nb")

# Headings, column names and short words of the document; the templates read them as `L.key`.
UI: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "en": MappingProxyType({
        "title": "Policy review",
        "subtitle": "Rules, citations, vocabulary and scenario coverage of a privacy-rules pack",
        "contents": "Contents",
        "about": "About this pack",
        "pack_id": "Pack id",
        "pack_name": "Pack",
        "version": "Version (content hash)",
        "controller": "Controller",
        "jurisdiction": "Jurisdiction",
        "time_zone": "Time zone",
        "default_scope": "Default scope of a keep question",
        "source": "Policy text",
        "reviewer": "Reviewer",
        "reviewed_on": "Reviewed on",
        "next_review": "Next review",
        "generated_for": "Generated for",
        "not_given": "not given",
        "rule_count": "Rules",
        "scenario_count": "Scenarios",
        "combining": "How rules combine",
        "combining_intro": "For one question, every rule whose targets match is evaluated: it holds, does not hold, "
                           "or is unknown (a fact it needs is missing). The answer is then found in this order:",
        "questions": "Rules by question",
        "q_keep": "Keep: may we still store this data, and until when?",
        "q_contact": "Contact: may we contact this person, for this purpose, over this channel?",
        "q_share": "Share: may we pass this data to this recipient?",
        "q_keep_short": "Keep",
        "q_contact_short": "Contact",
        "q_share_short": "Share",
        "no_rules": "No rule answers this question.",
        "effect": "Effect",
        "targets": "Applies to",
        "targets_all": "every question of this kind",
        "t_scopes": "scopes",
        "t_purposes": "purposes",
        "t_channels": "channels",
        "t_recipients": "recipients",
        "t_recipient_kinds": "recipient kinds",
        "conditions": "Holds when",
        "conditions_all": "all of these hold:",
        "conditions_none": "always (no conditions)",
        "basis": "Lawful basis",
        "basis_from_purpose": "the lawful basis of the purpose asked about (see the purposes table)",
        "obligations": "Obligations added when the rule holds",
        "due": "due when the window ends:",
        "explanation": "In plain words",
        "only_in": "only written in",
        "citations": "Rests on",
        "norms": "Norms",
        "section": "Policy section",
        "quote": "Policy sentence",
        "articles": "Articles",
        "defined_at": "Defined at",
        "scenarios": "Scenarios exercising this rule",
        "scenarios_none": "No scenario exercises this rule.",
        "scenarios_not_run": "Scenarios were not run for this document.",
        "vocabulary": "Vocabulary",
        "v_lawful_bases": "Lawful bases",
        "v_purposes": "Purposes",
        "v_recipients": "Recipients (processors, third parties, authorities)",
        "v_transfer_mechanisms": "Transfer mechanisms",
        "v_consent_mechanisms": "Consent mechanisms that count (N53; any other is no consent, an absent one is a missing fact)",
        "c_mechanism": "Mechanism",
        "all_purposes": "every purpose",
        "v_windows": "Retention windows and deadlines",
        "v_channels": "Channels",
        "v_subject_categories": "Subject categories",
        "v_scopes": "Scopes (what a keep question asks about)",
        "v_data_categories": "Data categories",
        "v_facts": "Pack-defined facts (the only keys a record's facts may hold)",
        "c_if_absent": "Read as, when absent",
        "c_id": "Id",
        "c_label": "Label",
        "c_article": "Article",
        "c_dpv": "DPV id",
        "c_basis": "Lawful basis",
        "c_direct_marketing": "Direct marketing",
        "c_name": "Name",
        "c_kind": "Kind",
        "c_country": "Country",
        "c_eea": "In the EEA",
        "c_listed": "Named in the notice",
        "c_dpa": "Data processing agreement",
        "c_transfers": "Transfers (mechanism, period, mechanism validity)",
        "c_purposes": "Purposes",
        "c_categories": "Data categories (issue 11)",
        "no_limit": "no limit stated",
        "c_valid_from": "Valid from",
        "c_valid_until": "Valid until",
        "c_anchor": "Runs from",
        "c_length": "Length",
        "c_open_if_absent": "Open while the date is absent",
        "c_count_future": "Counts future dates",
        "c_electronic": "Electronic",
        "c_default": "Default",
        "c_title": "Title",
        "c_covered_by": "Covered by",
        "c_cited_by_rules": "Cited by rules",
        "c_cited_by_scenarios": "Scenarios citing it",
        "c_note": "Note",
        "c_rests_on": "Rests on (policy text, or law)",
        "grounds": "Law",
        "source_in_pack": "in the pack folder",
        "absent": "Absent dates that mean \"has not happened\"",
        "absent_intro": "A fact a rule needs that is missing from the record makes that rule unknown, and an unknown "
                        "rule never gives allow: the answer is undetermined unless other rules decide it. The pack "
                        "makes an exception for the dates below, and only for them: when the record has no value "
                        "for one of them, the event has not happened (yet). A window anchored on the date is then "
                        "open (open_if_absent), and a happened condition on it is false. An absent date of this "
                        "list can therefore lead to allow, so a host must record these dates when the event "
                        "happens. A value that is present but not a date never counts as \"has not happened\". "
                        "The end dates of list entries (a consent's withdrawn_on, a legal hold's released_on ...) "
                        "are read this way by the conditions on those lists in every pack; they are listed with "
                        "the conditions of this pack that read them. "
                        "A pack-defined fact with an if_absent value (vocabulary.facts) is listed here too: when "
                        "the record lacks it, it is read as that value.",
        "absent_none": "None: in this pack every missing fact makes the rules that need it unknown.",
        "c_date": "Date in the record",
        "c_absent_by": "Read as not happened by",
        "c_absent_rules": "Rules that read it",
        "absent_window": "window {w} stays open",
        "absent_happened": "the condition {h} is false",
        "absent_compare_false": "a {c} with `if_absent: false` is false",
        "absent_value": "read as {v} (if_absent)",
        "absent_entry": "the condition {k}: the entry's event has not happened (the engine's reading, in every pack)",
        "yes": "yes",
        "no": "no",
        "none": "none",
        "dpa_signed": "signed",
        "dpa_ends": "ends",
        "dpa_open": "no end date",
        "dpa_missing": "none",
        "dpa_not_applicable": "not applicable (not a processor)",
        "mechanism_valid": "mechanism valid",
        "no_transfers": "none recorded",
        "not_needed_eea": "not needed (in the EEA)",
        "from": "from",
        "until": "until",
        "open_ended": "open-ended",
        "always_valid": "mechanism without time limit",
        "months": "months",
        "month": "month",
        "years": "years",
        "year": "year",
        "kind_processor": "processor",
        "kind_third_party": "third party",
        "kind_authority": "authority",
        "coverage": "Coverage",
        "coverage_intro": "What the scenario tests exercise: a rule is exercised when it held or decided in some scenario "
                          "(it appears among the decision's rules with a status other than unknown).",
        "scenario_summary": "Scenarios run",
        "pass": "pass",
        "fail": "fail",
        "error": "error",
        "rules_exercised": "Rules exercised",
        "rules_unexercised": "Rules no scenario exercises",
        "norms_uncited": "Norms no scenario cites (decision norms)",
        "norms_unruled": "Norms marked as covered by rules that no rule cites",
        "norms_documentation": "Norms accounted for by documentation (no decision effect)",
        "norms_table": "Norms",
        "all_covered": "none",
        "scenario_problems": "Scenario files that could not be read",
        "norms_none": "The pack lists no norms.",
        "effect_override": "Override",
        "effect_forbid": "Forbid",
        "effect_permit": "Permit",
        "effect_obligation": "Obligation",
        "effect_override_long": "Override: a legal obligation or legal claim that beats prohibitions",
        "effect_forbid_long": "Forbid: a prohibition (objection, restriction, erasure, no-go category)",
        "effect_permit_long": "Permit: a lawful basis",
        "effect_obligation_long": "Obligation: adds duties, never changes the answer",
        "footer": "Generated by privacy-rules from the pack's files. The rule files are the authority; this document "
                  "only presents them.",
    }),
    "nb": MappingProxyType({
        "title": "Gjennomgang av personvernregler",
        "subtitle": "Regler, hjemler, vokabular og scenariodekning for en privacy-rules-pakke",
        "contents": "Innhold",
        "about": "Om pakken",
        "pack_id": "Pakke-id",
        "pack_name": "Pakke",
        "version": "Versjon (innholdshash)",
        "controller": "Behandlingsansvarlig",
        "jurisdiction": "Jurisdiksjon",
        "time_zone": "Tidssone",
        "default_scope": "Standardomfang for lagringsspørsmål",
        "source": "Erklæringstekst",
        "reviewer": "Gjennomgått av",
        "reviewed_on": "Gjennomgått dato",
        "next_review": "Neste gjennomgang",
        "generated_for": "Laget for dato",
        "not_given": "ikke oppgitt",
        "rule_count": "Regler",
        "scenario_count": "Scenarioer",
        "combining": "Slik virker reglene sammen",
        "combining_intro": "For ett spørsmål vurderes hver regel som gjelder spørsmålet: den er oppfylt, ikke oppfylt "
                           "eller ukjent (en opplysning den trenger, mangler). Svaret finnes så i denne rekkefølgen:",
        "questions": "Regler per spørsmål",
        "q_keep": "Lagre: kan vi fortsatt lagre opplysningene, og til når?",
        "q_contact": "Kontakte: kan vi kontakte personen, for dette formålet, i denne kanalen?",
        "q_share": "Dele: kan vi gi opplysningene til denne mottakeren?",
        "q_keep_short": "Lagre",
        "q_contact_short": "Kontakte",
        "q_share_short": "Dele",
        "no_rules": "Ingen regel svarer på dette spørsmålet.",
        "effect": "Virkning",
        "targets": "Gjelder",
        "targets_all": "alle spørsmål av denne typen",
        "t_scopes": "omfang",
        "t_purposes": "formål",
        "t_channels": "kanaler",
        "t_recipients": "mottakere",
        "t_recipient_kinds": "mottakertyper",
        "conditions": "Oppfylt når",
        "conditions_all": "alle disse er oppfylt:",
        "conditions_none": "alltid (ingen vilkår)",
        "basis": "Rettslig grunnlag",
        "basis_from_purpose": "det rettslige grunnlaget for formålet det spørres om (se tabellen over formål)",
        "obligations": "Plikter som følger når regelen er oppfylt",
        "due": "forfaller når fristen løper ut:",
        "explanation": "Med vanlige ord",
        "only_in": "bare skrevet på",
        "citations": "Hjemmel",
        "norms": "Normer",
        "section": "Punkt i erklæringen",
        "quote": "Setning i erklæringen",
        "articles": "Artikler",
        "defined_at": "Definert i",
        "scenarios": "Scenarioer som prøver regelen",
        "scenarios_none": "Ingen scenarioer prøver denne regelen.",
        "scenarios_not_run": "Scenarioene ble ikke kjørt for dette dokumentet.",
        "vocabulary": "Vokabular",
        "v_lawful_bases": "Rettslige grunnlag",
        "v_purposes": "Formål",
        "v_recipients": "Mottakere (databehandlere, tredjeparter, myndigheter)",
        "v_transfer_mechanisms": "Overføringsgrunnlag",
        "v_consent_mechanisms": "Måter å innhente samtykke på som gjelder (N53; alle andre er ikke samtykke, en manglende er et manglende faktum)",
        "c_mechanism": "Måte",
        "all_purposes": "alle formål",
        "v_windows": "Lagringstider og frister",
        "v_channels": "Kanaler",
        "v_subject_categories": "Kategorier av registrerte",
        "v_scopes": "Omfang (hva et lagringsspørsmål gjelder)",
        "v_data_categories": "Kategorier av opplysninger",
        "v_facts": "Opplysninger pakken definerer (de eneste nøklene facts i en post kan ha)",
        "c_if_absent": "Leses som, når den mangler",
        "c_id": "Id",
        "c_label": "Betegnelse",
        "c_article": "Artikkel",
        "c_dpv": "DPV-id",
        "c_basis": "Rettslig grunnlag",
        "c_direct_marketing": "Direkte markedsføring",
        "c_name": "Navn",
        "c_kind": "Type",
        "c_country": "Land",
        "c_eea": "I EØS",
        "c_listed": "Nevnt i erklæringen",
        "c_dpa": "Databehandleravtale",
        "c_transfers": "Overføringer (grunnlag, periode, grunnlagets gyldighet)",
        "c_purposes": "Formål",
        "c_categories": "Kategorier av opplysninger",
        "no_limit": "ingen grense angitt",
        "c_valid_from": "Gyldig fra",
        "c_valid_until": "Gyldig til",
        "c_anchor": "Løper fra",
        "c_length": "Lengde",
        "c_open_if_absent": "Åpen så lenge datoen mangler",
        "c_count_future": "Teller fremtidige datoer",
        "c_electronic": "Elektronisk",
        "c_default": "Standard",
        "c_title": "Tittel",
        "c_covered_by": "Dekket av",
        "c_cited_by_rules": "Sitert av regler",
        "c_cited_by_scenarios": "Scenarioer som siterer den",
        "c_note": "Merknad",
        "c_rests_on": "Bygger på (erklæringstekst, eller lov)",
        "grounds": "Lov",
        "source_in_pack": "i pakkemappen",
        "absent": "Manglende datoer som betyr «har ikke skjedd»",
        "absent_intro": "Mangler en opplysning som en regel trenger, er regelen ukjent, og en ukjent regel gir aldri "
                        "tillatt: svaret er uavklart med mindre andre regler avgjør det. Pakken gjør unntak for "
                        "datoene nedenfor, og bare for dem: mangler en av dem i opplysningene, har hendelsen ikke "
                        "skjedd (ennå). En frist som løper fra datoen, er da åpen (open_if_absent), og et "
                        "happened-vilkår om den er ikke oppfylt. En manglende dato i denne listen kan altså gi "
                        "tillatt, så systemet må registrere disse datoene når hendelsen skjer. En verdi som finnes, "
                        "men ikke er en dato, teller aldri som «har ikke skjedd». "
                        "Sluttdatoer i listeoppføringer (et samtykkes withdrawn_on, en bevaringsplikts "
                        "released_on ...) leses slik av vilkårene om disse listene i alle pakker; de står med "
                        "vilkårene i denne pakken som leser dem. En opplysning pakken definerer "
                        "med en if_absent-verdi (vocabulary.facts), står også her: mangler den, leses den som "
                        "den verdien.",
        "absent_none": "Ingen: i denne pakken gjør enhver manglende opplysning reglene som trenger den, ukjente.",
        "c_date": "Dato i opplysningene",
        "c_absent_by": "Leses som ikke skjedd av",
        "c_absent_rules": "Regler som leser den",
        "absent_window": "fristen {w} forblir åpen",
        "absent_happened": "vilkåret {h} er ikke oppfylt",
        "absent_compare_false": "en {c} med `if_absent: false` er ikke oppfylt",
        "absent_value": "leses som {v} (if_absent)",
        "absent_entry": "vilkåret {k}: hendelsen i oppføringen har ikke skjedd (motorens lesemåte, i alle pakker)",
        "yes": "ja",
        "no": "nei",
        "none": "ingen",
        "dpa_signed": "inngått",
        "dpa_ends": "utløper",
        "dpa_open": "uten sluttdato",
        "dpa_missing": "ingen",
        "dpa_not_applicable": "ikke aktuelt (ikke databehandler)",
        "mechanism_valid": "grunnlaget gjelder",
        "no_transfers": "ingen registrert",
        "not_needed_eea": "ikke nødvendig (i EØS)",
        "from": "fra",
        "until": "til",
        "open_ended": "uten sluttdato",
        "always_valid": "grunnlaget har ingen tidsgrense",
        "months": "måneder",
        "month": "måned",
        "years": "år",
        "year": "år",
        "kind_processor": "databehandler",
        "kind_third_party": "tredjepart",
        "kind_authority": "myndighet",
        "coverage": "Dekning",
        "coverage_intro": "Hva scenariotestene prøver: en regel er prøvd når den var oppfylt eller avgjørende i minst ett "
                          "scenario (den står blant beslutningens regler med en annen status enn ukjent).",
        "scenario_summary": "Kjørte scenarioer",
        "pass": "bestått",
        "fail": "feilet",
        "error": "feil",
        "rules_exercised": "Regler som er prøvd",
        "rules_unexercised": "Regler ingen scenarioer prøver",
        "norms_uncited": "Normer ingen scenarioer siterer (normer med virkning for beslutninger)",
        "norms_unruled": "Normer merket som dekket av regler, men som ingen regel siterer",
        "norms_documentation": "Normer dekket av dokumentasjon (uten virkning for beslutninger)",
        "norms_table": "Normer",
        "all_covered": "ingen",
        "scenario_problems": "Scenariofiler som ikke kunne leses",
        "norms_none": "Pakken lister ingen normer.",
        "effect_override": "Overstyrer",
        "effect_forbid": "Forbud",
        "effect_permit": "Tillatelse",
        "effect_obligation": "Plikt",
        "effect_override_long": "Overstyrer: en rettslig forpliktelse eller et rettskrav som går foran forbud",
        "effect_forbid_long": "Forbud: innsigelse, begrensning, sletting eller en kategori som ikke skal behandles",
        "effect_permit_long": "Tillatelse: et rettslig grunnlag",
        "effect_obligation_long": "Plikt: legger til plikter, endrer aldri svaret",
        "footer": "Laget av privacy-rules fra pakkens filer. Regelfilene er det som gjelder; dette dokumentet viser dem "
                  "bare fram.",
    }),
})

LANG_NAME: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "en": MappingProxyType({"en": "English", "nb": "Norwegian"}),
    "nb": MappingProxyType({"en": "engelsk", "nb": "norsk"}),
})

# docs/rule-language.md, "Combining": the same five steps, for the top of the document.
COMBINING: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": (
        "Override (a legal obligation or legal claim, e.g. Art. 17(3)(b),(e), Art. 18(2)): if any override holds, "
        "the answer is allow; prohibitions that hold are listed as overridden.",
        "Forbid (objection, restriction, erasure, expired window, categories we must not process): if any forbid "
        "holds, the answer is deny, unless an override is unknown: then the answer is undetermined.",
        "Permit (a lawful basis): if any permit holds and no forbid or override is unknown, the answer is allow. "
        "The record may be kept until the latest window end among the permits that hold.",
        "No basis: if no permit or override holds or could hold, the answer is deny (Art. 6(1): no lawful basis).",
        "Otherwise the answer is undetermined, naming the missing facts and the facts present but unusable "
        "(of another kind than the rule compares with, or not a date). Hosts treat undetermined as deny unless "
        "they choose otherwise.",
    ),
    "nb": (
        "Overstyring (en rettslig forpliktelse eller et rettskrav, f.eks. art. 17(3)(b),(e), art. 18(2)): er en "
        "overstyrende regel oppfylt, er svaret tillatt; forbud som er oppfylt, vises som overstyrt.",
        "Forbud (innsigelse, begrensning, sletting, utløpt frist, kategorier vi ikke skal behandle): er et forbud "
        "oppfylt, er svaret avslått, med mindre en overstyrende regel er ukjent: da er svaret uavklart.",
        "Tillatelse (et rettslig grunnlag): er en tillatelse oppfylt og ingen forbud eller overstyring ukjent, er "
        "svaret tillatt. Opplysningene kan lagres til den seneste fristen blant tillatelsene som er oppfylt.",
        "Uten grunnlag: kan ingen tillatelse eller overstyring være oppfylt, er svaret avslått (art. 6(1): uten "
        "rettslig grunnlag).",
        "Ellers er svaret uavklart, med de manglende opplysningene og de som finnes, men ikke kan brukes (av et "
        "annet slag enn regelen sammenligner med, eller ikke en dato). Systemene behandler uavklart som avslått med "
        "mindre de velger noe annet.",
    ),
})

COMBINING_NOTES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": (
        "Within a group the deciding rule is the first in pack order (the order of the files, then the order in "
        "the file); this document lists the rules in that order.",
        "Obligation rules never change the answer: when they hold, their duties are added. Duties of every rule "
        "that holds are added, overridden ones included.",
    ),
    "nb": (
        "Innenfor en gruppe avgjør den første regelen i pakkens rekkefølge (filenes rekkefølge, deretter "
        "rekkefølgen i filen); dette dokumentet viser reglene i den rekkefølgen.",
        "Pliktregler endrer aldri svaret: når de er oppfylt, legges pliktene til. Plikter fra alle regler som er "
        "oppfylt, legges til, også fra overstyrte regler.",
    ),
})

# Conditions. Key: (predicate kind, argument) or (kind, "*") for any argument.
# Value per language: (phrase when it holds, phrase for its negation under `not`).
# Fields: {w} window, {wdesc} window description, {path}, {p} purpose, {cats}, {c} category, {scope}.
PHRASES: Mapping[tuple[str, str], Mapping[str, tuple[str, str]]] = MappingProxyType({
    ("role", "controller"): {
        "en": ("the record is held as controller", "the record is not held as controller"),
        "nb": ("opplysningene behandles som behandlingsansvarlig", "opplysningene behandles ikke som behandlingsansvarlig"),
    },
    ("role", "processor"): {
        "en": ("the record is held as processor for a customer (Art. 28)",
               "the record is not held as processor for a customer"),
        "nb": ("opplysningene behandles som databehandler for en kunde (art. 28)",
               "opplysningene behandles ikke som databehandler for en kunde"),
    },
    ("subject", "one"): {
        "en": ("the person is in the category {cats}", "the person is not in the category {cats}"),
        "nb": ("personen er i kategorien {cats}", "personen er ikke i kategorien {cats}"),
    },
    ("subject", "many"): {
        "en": ("the person is in one of the categories {cats}", "the person is in none of the categories {cats}"),
        "nb": ("personen er i en av kategoriene {cats}", "personen er ikke i noen av kategoriene {cats}"),
    },
    ("within", "*"): {
        "en": ("within the window {w} ({wdesc}), its last day included",
               "outside the window {w} ({wdesc}): not yet started or already ended"),
        "nb": ("innenfor fristen {w} ({wdesc}), siste dag medregnet",
               "utenfor fristen {w} ({wdesc}): ikke begynt eller allerede utløpt"),
    },
    ("expired", "*"): {
        "en": ("the window {w} ({wdesc}) has ended: from the day after its last day",
               "the window {w} ({wdesc}) has not ended"),
        "nb": ("fristen {w} ({wdesc}) er utløpt: fra dagen etter siste dag",
               "fristen {w} ({wdesc}) er ikke utløpt"),
    },
    ("happened", "*"): {
        "en": ("the date {path} has come (on or before the day asked about)",
               "the date {path} has not come (absent, or after the day asked about)"),
        "nb": ("datoen {path} er nådd (på eller før dagen det spørres om)",
               "datoen {path} er ikke nådd (mangler, eller ligger etter dagen det spørres om)"),
    },
    ("consent", "*"): {
        "en": ("the person has a live consent to {p} (given, and not withdrawn)",
               "the person has no live consent to {p}"),
        "nb": ("personen har et gyldig samtykke til {p} (gitt og ikke trukket tilbake)",
               "personen har ikke et gyldig samtykke til {p}"),
    },
    ("consent_for_question", "*"): {
        "en": ("the person has a live consent to the purpose asked about (for sharing: naming the recipient)",
               "the person has no live consent to the purpose asked about (for sharing: naming the recipient)"),
        "nb": ("personen har et gyldig samtykke til formålet det spørres om (ved deling: som nevner mottakeren)",
               "personen har ikke et gyldig samtykke til formålet det spørres om (ved deling: som nevner mottakeren)"),
    },
    ("consent_for_question", "since_restriction"): {
        "en": ("the person has a live consent to the purpose asked about (for sharing: naming the recipient), given "
               "after the restriction in force was requested (Art. 18(2))",
               "the person has no live consent to the purpose asked about (for sharing: naming the recipient) given "
               "after the restriction in force was requested (Art. 18(2))"),
        "nb": ("personen har et gyldig samtykke til formålet det spørres om (ved deling: som nevner mottakeren), gitt "
               "etter at begrensningen som gjelder, ble krevd (art. 18(2))",
               "personen har ikke et gyldig samtykke til formålet det spørres om (ved deling: som nevner mottakeren) "
               "gitt etter at begrensningen som gjelder, ble krevd (art. 18(2))"),
    },
    ("consent_withdrawn", "any"): {
        "en": ("the person has withdrawn a consent (to any purpose) and none is live",
               "the person has not withdrawn a consent, or one is still live"),
        "nb": ("personen har trukket tilbake et samtykke (til hvilket som helst formål), og ingen gjelder",
               "personen har ikke trukket tilbake et samtykke, eller et samtykke gjelder fortsatt"),
    },
    ("consent_withdrawn", "*"): {
        "en": ("the person has withdrawn the consent to {p} and none is live",
               "the person has not withdrawn the consent to {p}, or a consent to it is live"),
        "nb": ("personen har trukket tilbake samtykket til {p}, og ingen samtykker til det gjelder",
               "personen har ikke trukket tilbake samtykket til {p}, eller et samtykke til det gjelder"),
    },
    ("objection", "art21_1"): {
        "en": ("the person objects to processing based on legitimate interest (Art. 21(1)) and no compelling "
               "grounds are documented",
               "there is no standing objection to processing based on legitimate interest (Art. 21(1)), or "
               "compelling grounds are documented"),
        "nb": ("personen har innsigelse mot behandling basert på berettiget interesse (art. 21(1)), og tvingende "
               "berettigede grunner er ikke dokumentert",
               "det er ingen gjeldende innsigelse mot behandling basert på berettiget interesse (art. 21(1)), eller "
               "tvingende grunner er dokumentert"),
    },
    ("objection", "art21_2"): {
        "en": ("the person objects to direct marketing (Art. 21(2))",
               "there is no standing objection to direct marketing (Art. 21(2))"),
        "nb": ("personen har innsigelse mot direkte markedsføring (art. 21(2))",
               "det er ingen gjeldende innsigelse mot direkte markedsføring (art. 21(2))"),
    },
    ("objection", "any"): {
        "en": ("the person has a standing objection (Art. 21(1) or 21(2))",
               "the person has no standing objection (Art. 21(1) or 21(2))"),
        "nb": ("personen har en gjeldende innsigelse (art. 21(1) eller 21(2))",
               "personen har ingen gjeldende innsigelse (art. 21(1) eller 21(2))"),
    },
    ("restriction", "active"): {
        "en": ("processing is restricted (Art. 18), on any ground", "processing is not restricted (Art. 18)"),
        "nb": ("behandlingen er begrenset (art. 18), uansett grunn", "behandlingen er ikke begrenset (art. 18)"),
    },
    ("restriction", "art18_1_a"): {
        "en": ("processing is restricted because the accuracy is contested (Art. 18(1)(a))",
               "processing is not restricted on the ground that the accuracy is contested (Art. 18(1)(a))"),
        "nb": ("behandlingen er begrenset fordi riktigheten bestrides (art. 18(1)(a))",
               "behandlingen er ikke begrenset fordi riktigheten bestrides (art. 18(1)(a))"),
    },
    ("restriction", "art18_1_b"): {
        "en": ("processing is restricted because it is unlawful and the person opposes erasure (Art. 18(1)(b))",
               "processing is not restricted on the ground of unlawful processing with erasure opposed (Art. 18(1)(b))"),
        "nb": ("behandlingen er begrenset fordi den er ulovlig og personen motsetter seg sletting (art. 18(1)(b))",
               "behandlingen er ikke begrenset fordi den er ulovlig og sletting motsettes (art. 18(1)(b))"),
    },
    ("restriction", "art18_1_c"): {
        "en": ("processing is restricted because the person needs the data for legal claims (Art. 18(1)(c))",
               "processing is not restricted on the ground that the person needs the data for legal claims "
               "(Art. 18(1)(c))"),
        "nb": ("behandlingen er begrenset fordi personen trenger opplysningene for rettskrav (art. 18(1)(c))",
               "behandlingen er ikke begrenset fordi personen trenger opplysningene for rettskrav (art. 18(1)(c))"),
    },
    ("restriction", "art18_1_d"): {
        "en": ("processing is restricted while an objection is being assessed (Art. 18(1)(d))",
               "processing is not restricted pending an objection (Art. 18(1)(d))"),
        "nb": ("behandlingen er begrenset mens en innsigelse vurderes (art. 18(1)(d))",
               "behandlingen er ikke begrenset mens en innsigelse vurderes (art. 18(1)(d))"),
    },
    ("erasure", "requested"): {
        "en": ("an erasure request (Art. 17) has been received", "no erasure request (Art. 17) has been received"),
        "nb": ("det er mottatt et krav om sletting (art. 17)", "det er ikke mottatt noe krav om sletting (art. 17)"),
    },
    ("erasure", "unanswered"): {
        "en": ("an erasure request (Art. 17) has been received and not yet answered (Art. 12(3))",
               "no erasure request (Art. 17) is waiting for an answer"),
        "nb": ("det er mottatt et krav om sletting (art. 17) som ikke er besvart (art. 12(3))",
               "ingen krav om sletting (art. 17) venter på svar"),
    },
    ("erasure", "verified"): {
        "en": ("an erasure request (Art. 17) has been received and the requester's identity verified",
               "no identity-verified erasure request (Art. 17) has been received"),
        "nb": ("det er mottatt et krav om sletting (art. 17), og identiteten er bekreftet",
               "det er ikke mottatt noe krav om sletting (art. 17) med bekreftet identitet"),
    },
    ("erasure", "granted"): {
        "en": ("an identity-verified erasure request (Art. 17) has been received and no compelling grounds to "
               "keep the data are documented",
               "no erasure request has been granted (identity-verified, no documented compelling grounds)"),
        "nb": ("det er mottatt et krav om sletting (art. 17) med bekreftet identitet, og tvingende grunner til å "
               "beholde opplysningene er ikke dokumentert",
               "ingen krav om sletting er innvilget (bekreftet identitet, uten dokumenterte tvingende grunner)"),
    },
    ("rights_request", "pending_verification"): {
        "en": ("a rights or erasure request awaits verification of the requester's identity",
               "no rights or erasure request awaits identity verification"),
        "nb": ("en henvendelse om rettigheter eller sletting venter på bekreftelse av identitet",
               "ingen henvendelse om rettigheter eller sletting venter på bekreftelse av identitet"),
    },
    ("rights_request", "unanswered"): {
        "en": ("a rights or erasure request has not been answered yet",
               "every rights or erasure request has been answered"),
        "nb": ("en henvendelse om rettigheter eller sletting er ikke besvart ennå",
               "alle henvendelser om rettigheter eller sletting er besvart"),
    },
    ("rights_request", "unanswered_rights"): {
        "en": ("a rights request (access, rectification, restriction, objection, portability) has not been answered yet",
               "every rights request has been answered (erasure requests aside)"),
        "nb": ("en henvendelse om rettigheter (innsyn, retting, begrensning, innsigelse, dataportabilitet) er ikke besvart ennå",
               "alle henvendelser om rettigheter er besvart (krav om sletting holdt utenfor)"),
    },
    ("legal_hold", "*"): {
        "en": ("a legal hold is in force (one that names scopes covers only those)", "no legal hold is in force"),
        "nb": ("det gjelder en bevaringsplikt i en konkret sak (legal hold; en som nevner omfang, gjelder bare dem)",
               "det gjelder ingen bevaringsplikt i en konkret sak (legal hold)"),
    },
    ("legal_order", "*"): {
        "en": ("a binding disclosure order naming the recipient asked about has been received",
               "no binding disclosure order naming the recipient asked about has been received"),
        "nb": ("det er mottatt et bindende pålegg om utlevering til mottakeren det spørres om",
               "det er ikke mottatt noe bindende pålegg om utlevering til mottakeren det spørres om"),
    },
    ("data_category", "*"): {
        "en": ("the record holds data of the category {c}", "the record holds no data of the category {c}"),
        "nb": ("opplysningene omfatter kategorien {c}", "opplysningene omfatter ikke kategorien {c}"),
    },
    ("keep", "*"): {
        "en": ("keeping the record is allowed (the keep question for the default scope {scope})",
               "keeping the record is not allowed (the keep question for the default scope {scope})"),
        "nb": ("det er tillatt å lagre opplysningene (lagringsspørsmålet for standardomfanget {scope})",
               "det er ikke tillatt å lagre opplysningene (lagringsspørsmålet for standardomfanget {scope})"),
    },
    ("processor_dpa", "*"): {
        "en": ("the recipient has a data processing agreement in force (Art. 28(3))",
               "the recipient has no data processing agreement in force (Art. 28(3))"),
        "nb": ("mottakeren har en gjeldende databehandleravtale (art. 28(3))",
               "mottakeren har ingen gjeldende databehandleravtale (art. 28(3))"),
    },
    ("transfer", "*"): {
        "en": ("the transfer to the recipient is lawful: it is in the EEA, or it relies on a transfer mechanism "
               "valid on the day (Chapter V)",
               "the transfer to the recipient is not lawful: outside the EEA with no transfer mechanism valid on "
               "the day (Chapter V)"),
        "nb": ("overføringen til mottakeren er lovlig: mottakeren er i EØS, eller overføringen bygger på et "
               "overføringsgrunnlag som gjelder på dagen (kapittel V)",
               "overføringen til mottakeren er ikke lovlig: utenfor EØS uten et overføringsgrunnlag som gjelder "
               "på dagen (kapittel V)"),
    },
    ("recipient_listed", "true"): {
        "en": ("the recipient is named in the privacy notice", "the recipient is not named in the privacy notice"),
        "nb": ("mottakeren er nevnt i personvernerklæringen", "mottakeren er ikke nevnt i personvernerklæringen"),
    },
    ("recipient_serves", "*"): {
        "en": ("the purpose asked about is among the recipient's purposes",
               "the purpose asked about is not among the recipient's purposes"),
        "nb": ("formålet det spørres om er blant mottakerens formål",
               "formålet det spørres om er ikke blant mottakerens formål"),
    },
    ("categories_beyond", "recipient"): {
        "en": ("the data categories asked about include one the recipient is not committed to receive",
               "the data categories asked about are all ones the recipient is committed to receive"),
        "nb": ("kategoriene av opplysninger det spørres om omfatter en som mottakeren ikke har forpliktet seg til å motta",
               "kategoriene av opplysninger det spørres om er alle slike mottakeren har forpliktet seg til å motta"),
    },
    ("categories_beyond", "purpose"): {
        "en": ("the data categories asked about include one the purpose does not need",
               "the data categories asked about are all ones the purpose needs"),
        "nb": ("kategoriene av opplysninger det spørres om omfatter en som formålet ikke trenger",
               "kategoriene av opplysninger det spørres om er alle slike formålet trenger"),
    },
    ("shares_category", "*"): {
        "en": ("the data to be shared include the category {c}", "the data to be shared do not include the category {c}"),
        "nb": ("opplysningene som skal deles, omfatter kategorien {c}",
               "opplysningene som skal deles, omfatter ikke kategorien {c}"),
    },
    ("channel_electronic", "true"): {
        "en": ("the channel asked about is electronic", "the channel asked about is not electronic"),
        "nb": ("kanalen det spørres om er elektronisk", "kanalen det spørres om er ikke elektronisk"),
    },
    ("all", "*"): {"en": ("all of these hold:", "not all of these hold:"),
                   "nb": ("alle disse er oppfylt:", "ikke alle disse er oppfylt:")},
    ("any", "*"): {"en": ("at least one of these holds:", "none of these holds:"),
                   "nb": ("minst én av disse er oppfylt:", "ingen av disse er oppfylt:")},
    ("unknown", "*"): {"en": ("condition {raw}", "not: condition {raw}"),
                       "nb": ("vilkåret {raw}", "ikke: vilkåret {raw}")},
})

# fact comparisons: operator -> phrase, and the operator that is its negation.
FACT_OPS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "en": MappingProxyType({
        "equals": "{path} is {v}", "not_equals": "{path} is not {v}", "in": "{path} is one of {v}",
        "not_in": "{path} is none of {v}", "before": "{path} is before {v}", "on_or_before": "{path} is on or before {v}",
        "after": "{path} is after {v}", "on_or_after": "{path} is on or after {v}",
    }),
    "nb": MappingProxyType({
        "equals": "{path} er {v}", "not_equals": "{path} er ikke {v}", "in": "{path} er en av {v}",
        "not_in": "{path} er ingen av {v}", "before": "{path} er før {v}", "on_or_before": "{path} er på eller før {v}",
        "after": "{path} er etter {v}", "on_or_after": "{path} er på eller etter {v}",
    }),
})
# `compare` (two days of the record): how an operand and the absent-day reading read
COMPARE_TEXT: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "en": MappingProxyType({"as_of": "the day asked about", "window_end": "the last day of window {w}",
                            "absent_true": " (true when a day is not recorded)",
                            "absent_false": " (false when a day is not recorded)",
                            "absent_unknown": " (cannot be decided when a day is not recorded)"}),
    "nb": MappingProxyType({"as_of": "dagen det spørres om", "window_end": "siste dag i vinduet {w}",
                            "absent_true": " (sant når en dato ikke er registrert)",
                            "absent_false": " (usant når en dato ikke er registrert)",
                            "absent_unknown": " (kan ikke avgjøres når en dato ikke er registrert)"}),
})
FACT_NEGATION: Mapping[str, str] = MappingProxyType({
    "equals": "not_equals", "not_equals": "equals", "in": "not_in", "not_in": "in",
    "before": "on_or_after", "on_or_after": "before", "after": "on_or_before", "on_or_before": "after",
})

# Window descriptions: "24 months from `relationship.first_contact_on`".
WINDOW: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "en": MappingProxyType({
        "scalar": "{n} from {anchor}",
        "list": "{n} from the latest {anchor} on or before the day",
        "list_future": "{n} from the latest {anchor}, future dates included",
        "open_if_absent": "; open while {anchor} is absent",
    }),
    "nb": MappingProxyType({
        "scalar": "{n} fra {anchor}",
        "list": "{n} fra siste {anchor} på eller før dagen",
        "list_future": "{n} fra siste {anchor}, fremtidige datoer medregnet",
        "open_if_absent": "; åpen så lenge {anchor} mangler",
    }),
})
