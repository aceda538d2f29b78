import logging

from common.logs import JsonFormatter
from common.pii import PiiMaskingFilter, mask_birth_date, mask_cpf, mask_email, mask_text


def test_masks_in_the_documented_shape():
    assert mask_cpf("945.807.302-24") == "***.807.302-**"
    assert mask_cpf("94580730224") == "***.807.302-**"
    assert mask_email("maria.santos@exemplo.com.br") == "m***@exemplo.com.br"
    assert mask_birth_date("12/03/1985") == "**/**/1985"
    assert mask_birth_date("1985-03-12") == "**/**/1985"


def test_free_text_keeps_no_cpf_email_date_or_phone():
    line = (
        "login maria.santos@exemplo.com.br cpf 94580730224 nasc 12/03/1985 iso 1985-03-12 "
        "tel +55 79 99811-0001 whatsapp:+5579998110001"
    )
    masked = mask_text(line)
    for secret in ("maria.santos", "94580730224", "12/03", "03-12", "99811", "998110001"):
        assert secret not in masked
    # card numbers and protocols are not personal data and stay readable for support
    assert mask_text("carteirinha 100200300401") == "carteirinha 100200300401"


def test_log_records_are_masked_including_args():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "cpf=%s email=%s", ("945.807.302-24", "jose.oliveira@exemplo.com.br"), None
    )
    PiiMaskingFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "945.807" not in line and "jose.oliveira" not in line
    assert "***.807.302-**" in line and "j***@exemplo.com.br" in line
