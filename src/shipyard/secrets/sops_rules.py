"""``.sops.yaml`` creation rules: which age recipients (and which clear-text rules) a file gets.

SOPS picks the first rule whose ``path_regex`` is found in the file's path relative to the
directory of ``.sops.yaml`` (a rule without ``path_regex`` matches every file), and Shipyard does
the same, so both tools encrypt an environment's secrets to the same people. Adding or removing
a recipient edits the rule of that environment (a new rule just for it is put first when the
matching rule is shared with other files), keeping the file's comments and order.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.secrets import sops_metadata
from shipyard.spec import yamlsource

CONFIG_FILE = ".sops.yaml"


@frozen
class CreationRule:
    index: int
    path_regex: str | None
    age: tuple[str, ...]
    rules: sops_metadata.EncryptionRules
    location: errors.SourceLocation


def env_path_regex(relative_file: str) -> str:
    """The ``path_regex`` of a rule for exactly one file."""
    return "^" + re.escape(relative_file).replace("/", "/") + "$"


def load(root: Path) -> list[CreationRule]:
    """The creation rules of ``root/.sops.yaml`` in order; none when there is no such file."""
    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise errors.UserError(f"cannot read {path}: {error.strerror}") from None
    document = yamlsource.parse(text, path=CONFIG_FILE)
    if document.problems:
        raise errors.SpecErrors(list(document.problems))
    root_node = document.root
    if root_node is None:
        return []
    if not isinstance(root_node, yamlsource.MappingNode):
        raise errors.SpecError(
            "expected a mapping with `creation_rules`", location=root_node.location
        )
    entry = root_node.entries.get("creation_rules")
    if entry is None:
        return []
    if not isinstance(entry.value, yamlsource.SequenceNode):
        raise errors.SpecError(
            "`creation_rules` must be a list",
            location=entry.value.location,
            key_path="creation_rules",
        )
    return [_rule(index, item) for index, item in enumerate(entry.value.items)]


def _rule(index: int, node: yamlsource.Node) -> CreationRule:
    where = f"creation_rules[{index}]"
    if not isinstance(node, yamlsource.MappingNode):
        raise errors.SpecError(
            "a creation rule must be a mapping", location=node.location, key_path=where
        )
    values = yamlsource.to_value(node)
    regex = values.get("path_regex")
    if regex is not None:
        try:
            re.compile(str(regex))
        except re.error as error:
            raise errors.SpecError(
                f"`path_regex` is not a valid regular expression: {error}",
                location=node.entries["path_regex"].value.location,
                key_path=f"{where}.path_regex",
            ) from None
    age = values.get("age") or ()
    if isinstance(age, str):
        age = age.replace("\n", ",").split(",")
    recipients = tuple(str(part).strip() for part in age if str(part).strip())
    for group in values.get("key_groups") or ():
        if isinstance(group, dict):
            recipients += tuple(str(r).strip() for r in group.get("age") or ())
    texts = {name: values.get(name) for name in sops_metadata.SUPPORTED_RULES}
    if not any(texts.values()):
        texts["unencrypted_suffix"] = sops_metadata.DEFAULT_UNENCRYPTED_SUFFIX
    rules = sops_metadata.EncryptionRules(
        **{name: str(value) if value else None for name, value in texts.items()},
        mac_only_encrypted=bool(values.get("mac_only_encrypted")),
    )
    return CreationRule(
        index, str(regex) if regex is not None else None, recipients, rules, node.location
    )


def rule_for(root: Path, relative_file: str) -> CreationRule | None:
    """The first rule matching ``relative_file`` (a path relative to ``root``), as SOPS picks it."""
    for rule in load(root):
        if rule.path_regex is None or re.search(rule.path_regex, relative_file):
            return rule
    return None


def set_recipients(root: Path, relative_file: str, recipients: list[str]) -> str:
    """The text of ``.sops.yaml`` with ``relative_file``'s rule giving exactly ``recipients``."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    path = root / CONFIG_FILE
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    tree = yaml.load(text) if text.strip() else None
    if not isinstance(tree, CommentedMap):
        tree = CommentedMap()
    rules = tree.get("creation_rules")
    if not isinstance(rules, CommentedSeq):
        rules = CommentedSeq()
        tree["creation_rules"] = rules
    joined = ",".join(recipients)
    current = rule_for(root, relative_file) if text.strip() else None
    own = env_path_regex(relative_file)
    if current is not None and current.path_regex == own:
        rules[current.index]["age"] = joined
    else:
        rule = CommentedMap()
        rule["path_regex"] = own
        if current is not None:
            for name, value in rules[current.index].items():
                if name not in ("path_regex", "age", "key_groups"):
                    rule[name] = value
        rule["age"] = joined
        rules.insert(0, rule)
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    return buffer.getvalue()
