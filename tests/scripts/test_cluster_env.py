"""`make cluster` gives every node the channels' settings it was given (not only what happens to be
in os.environ), and the public URL the webhook signatures are checked against is HAProxy's."""

from scripts.cluster import Cluster


def test_every_node_gets_the_channel_settings_and_haproxys_public_url(tmp_path):
    env = {
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "token-do-teste",
        "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "TELEGRAM_WEBHOOK_SECRET": "segredo-do-webhook",
    }
    cluster = Cluster(var_dir=tmp_path, public_port=8100, env=env, model=tmp_path / "modelo.tar.gz")
    cluster.build()
    for stack in cluster.stacks:
        given = stack.extra_env
        assert {name: given.get(name) for name in env} == env
        assert given["PUBLIC_BASE_URL"] == "http://127.0.0.1:8100"


def test_a_public_base_url_given_wins(tmp_path):
    cluster = Cluster(var_dir=tmp_path, env={"PUBLIC_BASE_URL": "https://chat.exemplo.com.br"})
    assert cluster.shared_env()["PUBLIC_BASE_URL"] == "https://chat.exemplo.com.br"
    assert "TWILIO_AUTH_TOKEN" not in cluster.shared_env()  # not given: the channel stays off
