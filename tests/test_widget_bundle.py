"""The widget bundle: one language per bundle, its weight, its strings and its short names."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
import yaml

from consent.jsnames import drop_redundant_punctuation, shorten
from consent.settings import PROJECT_ROOT
from consent.texts import catalogue, lifetime_in

SITES = {
    "mixvoip.com": ["en", "fr", "de", "nl"],
    "mixvoip.org": ["en", "fr", "de"],
    "voxbi.team": ["en", "fr", "de"],
    "voxbi.com": ["en", "fr", "de", "nl"],
}
# Script, styles, configuration and one language's strings, as gzip on the wire: the issue's
# goal, 6 KB (see docs/banner.md for each bundle's weight).
BUDGET = 6144


@pytest.mark.parametrize("site", SITES)
def test_every_bundle_stays_within_the_weight_budget(client, site):
    for language in SITES[site]:
        response = client.get(
            f"/v1/sites/{site}/widget.js?lang={language}", headers={"Accept-Encoding": "gzip"}
        )
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Content-Language"] == language
        body = response.get_data()
        assert len(body) <= BUDGET, f"{site} {language}: {len(body)} bytes gzip"
        assert b"__CONSENT_CONFIG__" not in gzip.decompress(body)


@pytest.mark.parametrize(
    ("query", "accept_language", "expected"),
    [
        ("?lang=de", "fr-FR,fr;q=0.9", "de"),
        ("", "fr-BE,fr;q=0.9,en;q=0.8", "fr"),
        ("", "es-ES,es;q=0.9,nl;q=0.5,de;q=0.7", "de"),
        ("", "es-ES", "en"),
        ("?lang=nl", "", "en"),  # voxbi.team does not speak Dutch
    ],
)
def test_the_bundle_language_is_asked_for_or_taken_from_accept_language(
    client, query, accept_language, expected
):
    response = client.get(
        f"/v1/sites/voxbi.team/widget.js{query}", headers={"Accept-Language": accept_language}
    )
    assert response.headers["Content-Language"] == expected
    assert f'"lang":"{expected}"' in response.get_data(as_text=True)
    vary = response.headers["Vary"]
    assert ("Accept-Language" in vary) == (query == "")


def test_a_language_that_is_not_one_of_the_four_is_refused(client):
    response = client.get("/v1/sites/mixvoip.com/widget.js?lang=es")
    assert response.status_code == 422
    assert response.get_json()["field"] == "lang"


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, str]:
    config = yaml.safe_load((PROJECT_ROOT / "sites.yaml").read_text(encoding="utf-8"))
    config["sites"][2]["texts"] = {"fr": {"accept": "J'accepte tout", "title": "Témoins"}}
    theme = {"position": "top", "accent": "#7a1f1f", "background": "#fffbe6", "text": "#222222"}
    config["sites"][2]["theme"] = theme
    path = tmp_path / "sites.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return {"CONSENT_SITES_FILE": str(path)}


def test_a_site_overrides_strings_and_theme_in_sites_yaml(client):
    french = client.get("/v1/sites/voxbi.team/widget.js?lang=fr").get_data(as_text=True)
    english = client.get("/v1/sites/voxbi.team/widget.js?lang=en").get_data(as_text=True)
    other = client.get("/v1/sites/voxbi.com/widget.js?lang=fr").get_data(as_text=True)

    assert '"accept":"J\'accepte tout"' in french and '"title":"Témoins"' in french
    assert '"accept":"Tout refuser"' not in french
    assert '"refuse":"Tout refuser"' in french  # the rest still comes from the catalogue
    assert '"accept":"Accept all"' in english
    assert '"accept":"Tout accepter"' in other
    assert '"position":"top","accent":"#7a1f1f"' in french


def test_short_names_leave_strings_regexes_properties_and_globals_alone():
    source = (
        "const showBanner=(message,count)=>{const total=count/2;"
        'return message.replace(/showBanner/g,"count")+total+window.total+{total}.total;};'
        "function readQueue(queueKey){return localStorage.getItem(queueKey);}"
    )
    short = shorten(source)
    assert short.count("showBanner") == 1  # only inside the regex
    assert '"count"' in short and "window.total" in short and "{total}.total" in short
    assert "localStorage.getItem(" in short
    assert "readQueue" not in short and "queueKey" not in short and "message" not in short
    assert len(short) < len(source)


def test_short_names_refuse_template_literals_they_cannot_see_into():
    with pytest.raises(ValueError, match="template literals"):
        shorten("const total = 1; const text = `${total} cookies`;")


def test_short_names_are_reused_scope_by_scope_but_never_hide_an_outer_name():
    source = (
        "const sum=(items)=>{const total=items.length;return items.map((item)=>item+total);};"
        "const double=(values)=>values.map((value)=>value*2);"
        "function first(list){try{return list[0];}catch(error){return error;}}"
    )
    short = shorten(source)
    [(items, total)] = re.findall(r"\((\w+)\)=>\{const (\w+)=\1\.length", short)
    [(item, used_total)] = re.findall(r"\.map\(\((\w+)\)=>\1\+(\w+)\)", short)
    [values] = re.findall(r"\((\w+)\)=>\1\.map\(\(\w+\)=>\w+\*2\)", short)
    assert used_total == total  # the inner function still reads the outer total
    assert item != total  # ...so its own parameter got another name
    assert values == items  # sibling functions reuse the same short names
    assert all(len(name) == 1 for name in (items, total, item, values))
    assert "catch(" in short and "error" not in short and "list" not in short


def test_short_names_refuse_what_they_cannot_scope():
    with pytest.raises(ValueError, match="default parameter"):
        shorten("const f = (a, b = 2) => a + b;")
    with pytest.raises(ValueError, match="hides an outer name"):
        shorten("const k = 1; const f = (o) => { for (const k in o) g(k); return k; };")


def test_redundant_punctuation_goes_but_holes_and_empty_statements_stay():
    source = (
        "const a=[1,2,],o={x:1,},h=[1,,];f(a,o,);"
        "function g(){if(a)return 1;return 2;}"
        "function e(){if(a);}function w(){while(b());}function d(){if(a){}else;}"
    )
    tight = drop_redundant_punctuation(source)
    assert "const a=[1,2],o={x:1},h=[1,,];f(a,o);" in tight  # [1,,] keeps its hole
    assert "function g(){if(a)return 1;return 2}" in tight
    assert "if(a);}" in tight and "while(b());}" in tight and "else;}" in tight


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        (
            "en",
            ['["_gcl_au","90 days",0]', '"6 months after a refusal, 13 months after a consent"'],
        ),
        (
            "fr",
            ['["_gcl_au","90 jours",0]', '"6 mois après un refus, 13 mois après un consentement"'],
        ),
        (
            "de",
            ['["bcookie","1 Jahr",1]', '"6 Monate nach Ablehnung, 13 Monate nach Einwilligung"'],
        ),
        ("nl", ['["lidc","1 dag",1]', '["PHPSESSID","sessie",0]']),
    ],
)
def test_cookie_lifetimes_are_told_in_the_banners_language(client, language, shown):
    response = client.get(f"/v1/sites/mixvoip.com/widget.js?lang={language}")
    body = response.get_data(as_text=True)
    for text in shown:
        assert text in body
    assert '"lifetime.' not in body  # the words are used on the server, not shipped


def test_a_lifetime_written_otherwise_is_shown_as_written():
    texts = catalogue("fr")
    assert lifetime_in(texts, "1 year") == "1 an"
    assert lifetime_in(texts, "15 minutes") == "15 minutes"
    assert lifetime_in(texts, "until you log out") == "until you log out"
