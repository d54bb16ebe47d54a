"""The name a stored file is shown and downloaded under says what its bytes are."""

import pytest

from station_portal.services.attachments import shown_name


@pytest.mark.parametrize(("given", "content_type", "shown"), [
    ("invoice.pdf", "application/pdf", "invoice.pdf"),
    ("Invoice.PDF", "application/pdf", "Invoice.PDF"),
    ("photo.jpeg", "image/jpeg", "photo.jpeg"),
    ("invoice.html", "application/pdf", "invoice.pdf"),
    ("x.pdf.exe", "application/pdf", "x.pdf.pdf"),
    ("营业执照", "image/png", "营业执照.png"),
    (".htaccess", "image/png", ".htaccess.png"),
    ("C:\\\\Users\\\\me\\\\scan.svg", "image/png", "scan.png"),
    ("a\u202egpj.exe", "image/jpeg", "agpj.jpg"),
    ("", "image/png", ""),
    (None, "image/png", ""),
])
def test_the_shown_name_ends_in_the_sniffed_type(given, content_type, shown):
    assert shown_name(given, content_type) == shown
