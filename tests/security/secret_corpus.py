"""A planted-secret corpus, generated at test time so the repository never holds a secret.

Every kind of secret the scanner knows is planted in a realistic file (settings modules, .env
files, CI configs, JSON credentials, shell scripts, YAML manifests), with random values of the
right shape from a seeded generator, so they look real but match no issued credential. Beside
them sit look-alikes that must not be flagged: hashes, UUIDs, git SHAs, template variables,
documented examples, placeholders and test fixtures. The tests and bench/bench_secrets.py both
build it with ``write_corpus``.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"
AGE = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


@dataclass(frozen=True)
class Planted:
    """One secret planted at ``path``: the rule that must find it and the secret's value."""

    kind: str
    path: str
    secret: str


class _Random:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def of(self, alphabet: str, count: int) -> str:
        return "".join(self.random.choice(alphabet) for _ in range(count))


# kind -> (make the secret, the file it goes in, the line(s) that hold it)
_Maker = Callable[[_Random], str]


def _kinds() -> dict[str, tuple[_Maker, str, str]]:
    return {
        "aws-access-key-id": (lambda r: "AKIA" + r.of(UPPER_DIGITS, 16), "app/settings.py",
                              'AWS_ACCESS_KEY_ID = "{s}"'),
        "aws-secret-access-key": (lambda r: r.of(B64, 40), "deploy/aws.env",
                                  "aws_secret_access_key = {s}"),
        "github-pat": (lambda r: "ghp_" + r.of(ALNUM, 36), "scripts/release.sh",
                       'export GH_TOKEN="{s}"'),
        "github-oauth-token": (lambda r: "gho_" + r.of(ALNUM, 36), "config/oauth.json",
                               '{{"github": {{"oauth": "{s}"}}}}'),
        "github-app-token": (lambda r: "ghs_" + r.of(ALNUM, 36), "ci/app.yml",
                             "app_installation: {s}"),
        "github-refresh-token": (lambda r: "ghr_" + r.of(ALNUM, 76), "config/refresh.txt",
                                 "refresh={s}"),
        "github-fine-grained-pat": (lambda r: "github_pat_" + r.of(ALNUM + "_", 82),
                                    ".github/workflows/deploy.yml",
                                    "        env:\n          PAT: {s}"),
        "gitlab-pat": (lambda r: "glpat-" + r.of(URLSAFE, 20), ".gitlab-ci.yml",
                       "variables:\n  GITLAB_PAT: {s}"),
        "slack-token": (lambda r: "xoxb-" + r.of("0123456789", 12) + "-" + r.of(ALNUM, 24),
                        "bots/slack.py", 'client = WebClient(token="{s}")'),
        "slack-webhook": (lambda r: "https://hooks.slack.com/services/T" + r.of(UPPER_DIGITS, 9)
                          + "/B" + r.of(UPPER_DIGITS, 9) + "/" + r.of(ALNUM, 24),
                          "ops/notify.sh", "curl -X POST {s} -d @payload.json"),
        "stripe-secret-key": (lambda r: "sk_live_" + r.of(ALNUM, 32), "billing/keys.py",
                              'stripe.api_key = "{s}"'),
        "google-api-key": (lambda r: "AIza" + r.of(URLSAFE, 35), "web/maps.js",
                           'const MAPS = "{s}";'),
        "gcp-service-account-key": (lambda r: r.of(HEX, 40), "gcp/service-account.json",
                                    '{{"type": "service_account", "private_key_id": "{s}"}}'),
        "private-key": (lambda r: r.of(B64, 64), "keys/deploy_rsa",
                        "-----BEGIN RSA PRIVATE KEY-----\n{s}\n" + "A" * 8
                        + "\n-----END RSA PRIVATE KEY-----"),
        "azure-storage-key": (lambda r: r.of(B64, 86) + "==", "azure/storage.cfg",
                              "conn=DefaultEndpointsProtocol=https;AccountName=shop;"
                              "AccountKey={s};EndpointSuffix=core.windows.net"),
        "azure-ad-client-secret": (lambda r: r.of(ALNUM, 3) + "8Q~" + r.of(ALNUM + "_~.-", 34),
                                   "azure/app.yaml", "clientCredential: {s}"),
        "twilio-api-key": (lambda r: "SK" + r.of(HEX, 32), "sms/twilio_client.rb",
                           'TWILIO_KEY_SID = "{s}"'),
        "sendgrid-api-key": (lambda r: "SG." + r.of(URLSAFE, 22) + "." + r.of(URLSAFE, 43),
                             "mail/sendgrid.ts", 'sgMail.setApiKey("{s}");'),
        "mailgun-api-key": (lambda r: "key-" + r.of(HEX, 32), "mail/mailgun.php",
                            "$mg = Mailgun::create('{s}');"),
        "mailchimp-api-key": (lambda r: r.of(HEX, 32) + "-us14", "newsletter/config.ini",
                              "[mailchimp]\nkey = {s}"),
        "npm-token": (lambda r: "npm_" + r.of(ALNUM, 36), ".npmrc",
                      "//registry.example.invalid/:_authToken={s}"),
        "pypi-token": (lambda r: "pypi-AgEIcHlwaS5vcmc" + r.of(URLSAFE, 60), ".pypirc",
                       "[pypi]\nusername = __token__\npassword = {s}"),
        "docker-hub-pat": (lambda r: "dckr_pat_" + r.of(URLSAFE, 27), "docker/login.sh",
                           'echo "{s}" | docker login -u shop --password-stdin'),
        "jwt": (lambda r: "eyJhbGciOiJIUzI1NiJ9.eyJ" + r.of(URLSAFE, 30) + "." + r.of(URLSAFE, 43),
                "tests_api/session.http", "Authorization: Bearer {s}"),
        "heroku-api-key": (lambda r: "-".join(r.of(HEX, n) for n in (8, 4, 4, 4, 12)),
                           "deploy/heroku.yml", "heroku_api_key: {s}"),
        "shopify-token": (lambda r: "shpat_" + r.of(HEX, 32), "shop/shopify.py",
                          'SHOPIFY = "{s}"'),
        "digitalocean-token": (lambda r: "dop_v1_" + r.of(HEX, 64), "infra/do.tf",
                               'token = "{s}"'),
        "openai-api-key": (lambda r: "sk-proj-" + r.of(URLSAFE, 40) + "T3BlbkFJ"
                           + r.of(URLSAFE, 40),
                           "ml/llm.py", 'client = OpenAI(api_key="{s}")'),
        "anthropic-api-key": (lambda r: "sk-ant-api03-" + r.of(URLSAFE, 93) + "AA", "ml/claude.py",
                              'ANTHROPIC = "{s}"'),
        "huggingface-token": (lambda r: "hf_" + r.of(string.ascii_letters, 34), "ml/hub.sh",
                              "huggingface-cli login --token {s}"),
        "telegram-bot-token": (lambda r: r.of("123456789", 9) + ":AA" + r.of(URLSAFE, 33),
                               "bots/telegram.go", 'bot, _ := tgbotapi.NewBotAPI("{s}")'),
        "discord-webhook": (lambda r: "https://discord.com/api/webhooks/" + r.of("0123456789", 18)
                            + "/" + r.of(URLSAFE, 68), "bots/discord.json",
                            '{{"webhook": "{s}"}}'),
        "square-access-token": (lambda r: "EAAA" + r.of(URLSAFE, 60), "payments/square.py",
                                'SQUARE_TOKEN = "{s}"'),
        "square-oauth-secret": (lambda r: "sq0csp-" + r.of(URLSAFE, 43), "payments/square.yml",
                                "oauth_secret: {s}"),
        "braintree-access-token": (lambda r: "access_token$production$" + r.of(HEX, 16) + "$"
                                   + r.of(HEX, 32), "payments/braintree.env",
                                   "BRAINTREE={s}"),
        "atlassian-api-token": (lambda r: "ATATT3" + r.of(URLSAFE, 186), "tools/jira.cfg",
                                "jira_token={s}"),
        "databricks-token": (lambda r: "dapi" + r.of(HEX, 32), "data/databricks.cfg",
                             "[DEFAULT]\nhost = https://dbc.example.invalid\nkey = {s}"),
        "newrelic-api-key": (lambda r: "NRAK-" + r.of(UPPER_DIGITS, 27), "ops/newrelic.yml",
                             "api_key: {s}"),
        "grafana-token": (lambda r: "glsa_" + r.of(ALNUM, 32) + "_" + r.of(HEX, 8),
                          "ops/grafana.env", "GF_SA={s}"),
        "doppler-token": (lambda r: "dp.pt." + r.of(ALNUM, 43), "ops/doppler.sh",
                          "doppler configure set token {s}"),
        "vault-token": (lambda r: "hvs." + r.of(URLSAFE, 95), "ops/vault.hcl",
                        'vault_token = "{s}"'),
        "terraform-cloud-token": (lambda r: r.of(ALNUM, 14) + ".atlasv1." + r.of(URLSAFE, 67),
                                  "infra/.terraformrc",
                                  'credentials "app.terraform.io" {{\n  token = "{s}"\n}}'),
        "linear-api-key": (lambda r: "lin_api_" + r.of(ALNUM, 40), "tools/linear.ts",
                           'const linear = new LinearClient({{ apiKey: "{s}" }});'),
        "postman-api-key": (lambda r: "PMAK-" + r.of(HEX, 24) + "-" + r.of(HEX, 34),
                            "tools/postman.json", '{{"postman": "{s}"}}'),
        "age-secret-key": (lambda r: "AGE-SECRET-KEY-1" + r.of(AGE, 58), "keys/age.txt",
                           "# created: 2024-01-01\n{s}"),
        "database-connection-string": (lambda r: r.of(ALNUM, 20), "app/database.py",
                                       'DATABASE_URL = "postgresql://shop:{s}@db.internal:5432/shop"'),
        "url-basic-auth": (lambda r: r.of(ALNUM, 18), "scripts/fetch.sh",
                           "curl https://deploy:{s}@artifacts.example.invalid/latest.tgz"),
        "generic-secret-assignment": (lambda r: r.of(ALNUM + "!#%", 22), "app/config.yaml",
                                      'smtp:\n  password: "{s}"'),
        "generic-secret-env": (lambda r: r.of(ALNUM, 24), ".env.production",
                               "SESSION_SECRET={s}"),
    }  # fmt: skip


LOOK_ALIKES: dict[str, str] = {
    "app/checksums.py": (
        'SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n'
        'MD5 = "d41d8cd98f00b204e9800998ecf8427e"\n'
        'COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbe4904"\n'
        'password_hash = "5f4dcc3b5aa765d61d8327deb882cf99"\n'
    ),
    "app/ids.py": (
        'REQUEST_ID = "123e4567-e89b-12d3-a456-426614174000"\n'
        'token_uuid = "9f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f"\n'
    ),
    "docs/aws.md": "Use `AKIAIOSFODNN7EXAMPLE` and `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`.\n",
    ".github/workflows/ci.yml": (
        "env:\n  TOKEN: ${{ secrets.DEPLOY_TOKEN }}\n  PASSWORD: ${{ secrets.DB_PASSWORD }}\n"
    ),
    "app/settings_template.py": (
        'PASSWORD = os.environ["DB_PASSWORD"]\n'
        'API_KEY = "your_api_key_here"\n'
        'SECRET_KEY = "changeme"\n'
        'token = "<paste-token-here>"\n'
        'password = "{{ vault_password }}"\n'
        "api_key = settings.API_KEY\n"
    ),
    "tests/fixtures/tokens.py": (
        'FAKE = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\n'
        'ZEROS = "AKIA0000000000000000"\n'
        'password = "password"\n'
    ),
    "docs/database.md": "Connect with `postgresql://user:${DB_PASSWORD}@localhost/shop`.\n",
    "app/pem.py": 'HEADER = "-----BEGIN RSA PRIVATE KEY-----"\n',
    "app/allowed.py": (
        'TEST_KEY = "sk_live_' + "Q" * 3 + 'fixturefixturefixture12"  # shipyard:allow-secret\n'
    ),
    ".env.example": "SESSION_SECRET=\nAPI_TOKEN=replace-me-with-a-token\n",
    "assets/logo.b64": base64.b64encode(bytes(range(256)) * 2).decode() + "\n",
}
"""Files that must produce no finding (``app/allowed.py`` is found, but allowed inline)."""


def write_corpus(root: Path, seed: int = 7) -> list[Planted]:
    """Write the corpus under ``root``; the planted secrets, one per kind."""
    rng = _Random(seed)
    planted: list[Planted] = []
    for kind, (make, path, template) in _kinds().items():
        secret = make(rng)
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        before = file.read_text(encoding="utf-8") if file.exists() else ""
        file.write_text(before + template.format(s=secret) + "\n", encoding="utf-8")
        planted.append(Planted(kind, path, secret))
    for path, text in LOOK_ALIKES.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return planted


KINDS = tuple(_kinds())
