"""One translation function, complete zh_CN and en catalogs."""

from station_portal.i18n import _, _l, get_locale, negotiate, normalise_locale, use_locale
from station_portal.i18n.catalogs import missing


def test_every_message_in_the_code_has_a_chinese_and_an_english_translation():
    gaps = missing()
    assert gaps == {"zh_CN": [], "en": []}, "run: station-portal i18n update, then translate"


def test_messages_follow_the_current_locale():
    with use_locale("zh_CN"):
        assert _("Organisation") == "组织机构"
    with use_locale("en"):
        assert _("Organisation") == "Organisation"


def test_placeholders_are_filled_in_both_languages():
    with use_locale("zh_CN"):
        text = _("Staff (%(n)s)", n=12)
    assert "12" in text and "%" not in text


def test_lazy_strings_translate_when_shown():
    title = _l("Organisation")
    with use_locale("zh_CN"):
        assert str(title) == "组织机构"
    with use_locale("en"):
        assert str(title) == "Organisation"


def test_locale_names_are_normalised():
    assert normalise_locale("zh-CN") == "zh_CN"
    assert normalise_locale("zh_Hans_CN") == "zh_CN"
    assert normalise_locale("en-GB") == "en"
    assert normalise_locale("fr") is None
    assert normalise_locale(42) is None


def test_accept_language_picks_the_best_supported_language():
    assert negotiate("fr-FR,fr;q=0.9,en;q=0.8,zh;q=0.7") == "en"
    assert negotiate("de, zh-CN;q=0.5") == "zh_CN"
    assert negotiate("de") is None
    assert negotiate("") is None
    assert negotiate("en;q=abc") == "en"


def test_use_locale_restores_the_previous_one():
    with use_locale("en"):
        with use_locale("zh_CN"):
            assert get_locale() == "zh_CN"
        assert get_locale() == "en"
