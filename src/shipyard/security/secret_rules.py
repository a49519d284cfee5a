"""The rules of the secret scanner: one per kind of credential, plus a keyword heuristic. Pure.

Each rule names the literal keywords that any match must contain; the scanner runs a rule's
regular expression only on texts holding one of them, which is what makes scanning a large tree
fast. ``group`` is the part of a match that is the secret itself (what gets redacted and
fingerprinted). ``min_entropy`` rejects placeholders shaped like the real thing
(``ghp_xxxxxxxx...``); ``secret_filters`` holds that and the keyword heuristics' other filters.
"""

from __future__ import annotations

import re

from shipyard.core.frozen import frozen
from shipyard.security import findings

_HIGH = findings.Severity.HIGH
_CRITICAL = findings.Severity.CRITICAL
_MEDIUM = findings.Severity.MEDIUM


@frozen
class SecretRule:
    """One kind of secret: how to find it and how bad a leak is."""

    id: str
    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]
    """Literals a match contains; a text without any of them cannot match. A keyword with an
    upper-case letter is looked for as written, any other in the lower-cased text."""
    severity: findings.Severity = _HIGH
    group: int = 0
    min_entropy: float = 3.0
    heuristic: bool = False
    """A keyword-and-entropy guess rather than a provider's documented format."""
    token_start: bool = False
    """A match must not follow a letter, digit or underscore (checked after the match: a
    look-behind first in a pattern stops the regex engine from scanning for its literal prefix)."""
    folded: bool = False
    """Case-insensitive: ``pattern`` is matched against the lower-cased text, which is many times
    faster than an IGNORECASE pattern; the secret is then cut from the original text."""


def _rule(
    rule_id: str,
    name: str,
    pattern: str,
    keywords: tuple[str, ...],
    severity: findings.Severity = _HIGH,
    *,
    group: int = 0,
    min_entropy: float = 3.0,
    flags: int = 0,
    heuristic: bool = False,
) -> SecretRule:
    token_start = pattern.startswith(_B)
    folded = bool(flags & re.IGNORECASE)
    return SecretRule(
        rule_id,
        name,
        re.compile(pattern.removeprefix(_B), flags & ~re.IGNORECASE),
        keywords,
        severity,
        group,
        min_entropy,
        heuristic,
        token_start,
        folded,
    )


_B = r"(?<![A-Za-z0-9_])"  # start of a token
_E = r"(?![A-Za-z0-9_])"  # end of a token
_I = re.IGNORECASE

RULES: tuple[SecretRule, ...] = (
    _rule(
        "aws-access-key-id",
        "AWS access key ID",
        _B + r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}" + _E,
        ("AKIA", "ASIA", "ABIA", "ACCA"),
        _CRITICAL,
    ),
    _rule(
        "aws-secret-access-key",
        "AWS secret access key",
        r"aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})"
        + r"(?![A-Za-z0-9/+])",
        ("aws_secret", "awssecret"),
        _CRITICAL,
        group=1,
        min_entropy=3.5,
        flags=_I,
    ),
    _rule(
        "github-pat",
        "GitHub personal access token",
        _B + r"ghp_[A-Za-z0-9]{36}" + _E,
        ("ghp_",),
        _CRITICAL,
    ),
    _rule("github-oauth-token", "GitHub OAuth token", _B + r"gho_[A-Za-z0-9]{36}" + _E, ("gho_",)),
    _rule(
        "github-app-token",
        "GitHub App token",
        _B + r"gh[us]_[A-Za-z0-9]{36}" + _E,
        ("ghu_", "ghs_"),
    ),
    _rule(
        "github-refresh-token",
        "GitHub refresh token",
        _B + r"ghr_[A-Za-z0-9]{36,76}" + _E,
        ("ghr_",),
    ),
    _rule(
        "github-fine-grained-pat",
        "GitHub fine-grained token",
        _B + r"github_pat_[A-Za-z0-9_]{82}" + _E,
        ("github_pat_",),
        _CRITICAL,
    ),
    _rule(
        "gitlab-pat",
        "GitLab personal access token",
        _B + r"glpat-[A-Za-z0-9_-]{20}" + _E,
        ("glpat-",),
        _CRITICAL,
    ),
    _rule(
        "slack-token",
        "Slack token",
        _B + r"xox[baprs]-[0-9A-Za-z-]{10,72}" + _E,
        ("xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"),
    ),
    _rule(
        "slack-webhook",
        "Slack incoming webhook",
        r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}",
        ("hooks.slack.com",),
        _MEDIUM,
    ),
    _rule(
        "stripe-secret-key",
        "Stripe live secret key",
        _B + r"(?:sk|rk)_live_[0-9a-zA-Z]{24,99}" + _E,
        ("sk_live_", "rk_live_"),
        _CRITICAL,
    ),
    _rule("google-api-key", "Google API key", _B + r"AIza[0-9A-Za-z_-]{35}" + _E, ("AIza",)),
    _rule(
        "gcp-service-account-key",
        "Google Cloud service account key ID",
        r"\"private_key_id\"\s*:\s*\"([a-f0-9]{40})\"",
        ("private_key_id",),
        _CRITICAL,
        group=1,
    ),
    _rule(
        "private-key",
        "Private key",
        r"-----BEGIN[ A-Z]{0,20} PRIVATE KEY(?: BLOCK)?-----(?:\\n|\r?\n)"
        r"(?:[A-Za-z-]+: [^\n]*\n)*\s*([A-Za-z0-9+/=]{40,})",
        ("private key",),
        _CRITICAL,
        group=1,
    ),
    _rule(
        "azure-storage-key",
        "Azure storage account key",
        r"AccountKey=([A-Za-z0-9+/]{86}==)",
        ("AccountKey=",),
        _CRITICAL,
        group=1,
    ),
    _rule(
        "azure-ad-client-secret",
        "Azure AD client secret",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
        ("q~",),
    ),
    _rule("twilio-api-key", "Twilio API key", _B + r"SK[0-9a-f]{32}" + _E, ("SK",)),
    _rule(
        "sendgrid-api-key",
        "SendGrid API key",
        _B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _E,
        ("SG.",),
    ),
    _rule("mailgun-api-key", "Mailgun API key", _B + r"key-[0-9a-f]{32}" + _E, ("key-",)),
    _rule(
        "mailchimp-api-key", "Mailchimp API key", _B + r"[0-9a-f]{32}-us[0-9]{1,2}" + _E, ("-us",)
    ),
    _rule("npm-token", "npm access token", _B + r"npm_[A-Za-z0-9]{36}" + _E, ("npm_",), _CRITICAL),
    _rule(
        "pypi-token",
        "PyPI upload token",
        _B + r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
        ("pypi-AgEIcHlwaS5vcmc",),
        _CRITICAL,
    ),
    _rule(
        "docker-hub-pat",
        "Docker Hub access token",
        _B + r"dckr_pat_[A-Za-z0-9_-]{27}" + _E,
        ("dckr_pat_",),
    ),
    _rule(
        "jwt",
        "JSON Web Token",
        _B + r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}",
        ("eyJ",),
        _MEDIUM,
    ),
    _rule(
        "heroku-api-key",
        "Heroku API key",
        r"heroku[A-Za-z0-9_ .-]{0,20}[\"']?\s*[:=]\s*[\"']?"
        r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
        ("heroku",),
        group=1,
        flags=_I,
    ),
    _rule(
        "shopify-token",
        "Shopify access token",
        _B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _E,
        ("shpat_", "shpca_", "shppa_", "shpss_"),
    ),
    _rule(
        "digitalocean-token",
        "DigitalOcean token",
        _B + r"do[por]_v1_[a-f0-9]{64}" + _E,
        ("dop_v1_", "doo_v1_", "dor_v1_"),
    ),
    _rule(
        "openai-api-key",
        "OpenAI API key",
        _B + r"sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,74}T3BlbkFJ[A-Za-z0-9_-]{20,74}" + _E,
        ("t3blbkfj",),
        _CRITICAL,
    ),
    _rule(
        "anthropic-api-key",
        "Anthropic API key",
        _B + r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA" + _E,
        ("sk-ant-",),
        _CRITICAL,
    ),
    _rule("huggingface-token", "Hugging Face token", _B + r"hf_[A-Za-z]{34}" + _E, ("hf_",)),
    _rule(
        "telegram-bot-token",
        "Telegram bot token",
        _B + r"[0-9]{8,10}:AA[0-9A-Za-z_-]{33}" + _E,
        (":aa",),
    ),
    _rule(
        "discord-webhook",
        "Discord webhook",
        r"https://discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
        ("discord",),
        _MEDIUM,
    ),
    _rule(
        "square-access-token", "Square access token", _B + r"EAAA[A-Za-z0-9_-]{60}" + _E, ("EAAA",)
    ),
    _rule(
        "square-oauth-secret",
        "Square OAuth secret",
        _B + r"sq0csp-[0-9A-Za-z_-]{43}" + _E,
        ("sq0csp-",),
    ),
    _rule(
        "braintree-access-token",
        "Braintree access token",
        r"access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}",
        ("access_token$production",),
        _CRITICAL,
    ),
    _rule(
        "atlassian-api-token",
        "Atlassian API token",
        _B + r"ATATT3[A-Za-z0-9_=-]{180,}",
        ("ATATT3",),
    ),
    _rule("databricks-token", "Databricks token", _B + r"dapi[a-f0-9]{32}(?:-\d)?" + _E, ("dapi",)),
    _rule("newrelic-api-key", "New Relic user API key", _B + r"NRAK-[A-Z0-9]{27}" + _E, ("NRAK-",)),
    _rule(
        "grafana-token",
        "Grafana service account token",
        _B + r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}" + _E,
        ("glsa_",),
    ),
    _rule("doppler-token", "Doppler token", _B + r"dp\.pt\.[A-Za-z0-9]{43}" + _E, ("dp.pt.",)),
    _rule(
        "vault-token",
        "HashiCorp Vault token",
        _B + r"hvs\.[A-Za-z0-9_-]{90,120}" + _E,
        ("hvs.",),
        _CRITICAL,
    ),
    _rule(
        "terraform-cloud-token",
        "Terraform Cloud token",
        _B + r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}" + _E,
        (".atlasv1.",),
    ),
    _rule("linear-api-key", "Linear API key", _B + r"lin_api_[A-Za-z0-9]{40}" + _E, ("lin_api_",)),
    _rule(
        "postman-api-key",
        "Postman API key",
        _B + r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}" + _E,
        ("PMAK-",),
    ),
    _rule(
        "age-secret-key",
        "age secret key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        ("AGE-SECRET-KEY-1",),
        _CRITICAL,
    ),
    _rule(
        "database-connection-string",
        "Database URL with a password",
        r"(?:postgres|postgresql|mysql|mariadb|mongodb|mongodb\+srv|redis|rediss|amqp|amqps|"
        r"mssql|sqlserver)://[^\s:/@'\"]{1,64}:([^\s@/'\"]{3,128})@[^\s/'\"]+",
        ("postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "sqlserver"),
        _CRITICAL,
        group=1,
        min_entropy=0.0,
    ),
    _rule(
        "url-basic-auth",
        "Password in a URL",
        r"https?://[^\s:/@'\"]{1,64}:([^\s@/'\"]{3,128})@[^\s/'\"]+",
        ("://",),
        group=1,
        min_entropy=0.0,
    ),
    _rule(
        "generic-secret-assignment",
        "Secret assigned in code or config",
        r"(?:password|passwd|pwd|secret|api_?key|apikey|access_?token|auth_?token|"
        r"client_?secret|secret_?key|private_?key|token)[A-Za-z0-9_]{0,20}[\"']?"
        r"\s*(?::|=|:=|=>)\s*[\"']([^\"'\s]{8,120})[\"']",
        ("password", "passwd", "pwd", "secret", "api_key", "apikey", "token", "api-key"),
        group=1,
        min_entropy=3.0,
        flags=_I,
        heuristic=True,
    ),
    _rule(
        "generic-secret-env",
        "Secret in an environment file",
        r"^[ \t]*(?:export[ \t]+)?[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|API_KEY|APIKEY|TOKEN)"
        r"[A-Z0-9_]*[ \t]*=[ \t]*([^\s\"'#$]{8,120})[ \t]*$",
        ("PASSWORD", "PASSWD", "SECRET", "API_KEY", "APIKEY", "TOKEN"),
        group=1,
        min_entropy=3.0,
        flags=re.MULTILINE,
        heuristic=True,
    ),
)
"""Every rule; ``len(RULES)`` kinds of secret."""

BY_ID = {rule.id: rule for rule in RULES}
