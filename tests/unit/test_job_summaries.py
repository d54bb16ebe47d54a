"""The job-runs page names every figure a job reports, in words (never the raw key)."""
from station_portal.jobs.retention import NAMES
from station_portal.pages.jobs import SUMMARY_KEYS, summary_text


def test_every_figure_of_the_nightly_prune_has_words():
    figures = {*NAMES, "unfinished", "batches", "hall_tickets", "kept_uploads"}
    assert figures - SUMMARY_KEYS.keys() == set()


def test_summary_text_reads_a_prune_run():
    text = summary_text({"crew_pings": 1200, "audit_events": 0, "unfinished": ["crew_pings"],
                         "batches": 3})
    assert text == ("crew positions removed: 1200; audit rows removed: 0; "
                    "tables left for the next night: crew_pings; batches: 3")
    assert summary_text({"unfinished": []}) == "tables left for the next night: —"
