"""Checks a dashboard JSON file against Grafana's dashboard schema, strictly, offline.

    validate_dashboard.py FILE...      exit 0 when every file passes; else each problem on stderr, exit 1

The schema is the one Grafana's foundation SDK was generated from (its models: dashboard, panels,
Prometheus queries, for the Grafana release monitoring/setup-tools pins). The SDK's `from_json` is
lenient: it drops fields it does not know and copies values without looking at their types. So this
checks three things on top of it:

  1. unknown fields: the file parsed by `Dashboard.from_json` and written back by the SDK must be
     the file itself (a field the schema lacks is dropped on the way, a missing default added);
  2. types: every value, down to panel options and queries, must have the type the model declares
     (int, float, bool, str, a list or map of them, one of an enum's values, a nested model);
  3. plugins: every panel's type must be one the SDK models (or a row), every query a Prometheus one.
"""

import enum
import json
import sys
import types
import typing

from grafana_foundation_sdk.cog import plugins, runtime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

plugins.register_default_plugins()
PANEL_TYPES = set(runtime.Runtime().panelcfg_variants) | {"row"}


def is_model(cls) -> bool:
    return isinstance(cls, type) and hasattr(cls, "from_json") and hasattr(cls, "to_json")


def check_value(value, hint, path: str, errors: list) -> None:
    """Appends to `errors` where `value` does not have the declared type `hint`."""
    if hint is typing.Any or hint is object:
        if is_model(type(value)):       # options and custom field config of a known panel type
            check_model(value, path, errors)
        return
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        tries = []
        for alt in args:
            if alt is type(None):
                continue
            sub: list = []
            check_value(value, alt, path, sub)
            if not sub:
                return
            tries.append(sub)
        # Report the closest alternative (fewest problems).
        errors.extend(min(tries, key=len) if tries else [f"{path}: {value!r} is not allowed here"])
        return
    if origin is typing.Literal:
        if value not in args:
            errors.append(f"{path}: {value!r} is not one of {list(args)}")
        return
    if origin is list:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__} {value!r:.60}")
            return
        for i, item in enumerate(value):
            check_value(item, args[0] if args else typing.Any, f"{path}[{i}]", errors)
        return
    if origin is dict:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object, got {type(value).__name__} {value!r:.60}")
            return
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append(f"{path}: key {k!r} is not a string")
            check_value(v, args[1] if len(args) > 1 else typing.Any, f"{path}.{k}", errors)
        return
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [m.value for m in hint]
        # JSON has no enums: a member or its plain value (an int enum's value must not be a bool).
        if isinstance(value, bool) or value not in allowed:
            errors.append(f"{path}: {value!r} is not one of {allowed}")
        return
    if hint is bool:
        if not isinstance(value, bool):
            errors.append(f"{path}: expected a boolean, got {type(value).__name__} {value!r:.60}")
        return
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an integer, got {type(value).__name__} {value!r:.60}")
        return
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: expected a number, got {type(value).__name__} {value!r:.60}")
        return
    if hint is str:
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {type(value).__name__} {value!r:.60}")
        return
    if hint is cogvariants.Dataquery:
        if isinstance(value, runtime.UnknownDataquery) or not isinstance(value, cogvariants.Dataquery):
            errors.append(f"{path}: not a query of a data source the schema knows "
                          "(give the panel a datasource of type prometheus)")
            return
        if not isinstance(value, pm.Dataquery):
            errors.append(f"{path}: a {type(value).__module__} query; this dashboard queries Prometheus only")
        check_model(value, path, errors)
        return
    if is_model(hint):
        if isinstance(value, dict):
            # Some fields (a panel's links) are left as parsed JSON by from_json: model them here.
            sub = hint.from_json(value)
            check_roundtrip(value, sub, path, errors)
            check_model(sub, path, errors)
        elif isinstance(value, hint):
            check_model(value, path, errors)
        else:
            errors.append(f"{path}: expected {hint.__name__}, got {type(value).__name__} {value!r:.60}")
        return
    errors.append(f"{path}: no rule to check the type {hint!r} (validate_dashboard.py needs one)")


def check_model(obj, path: str, errors: list) -> None:
    hints = typing.get_type_hints(type(obj))
    for name, hint in hints.items():
        check_value(getattr(obj, name), hint, f"{path}.{name}" if path else name, errors)
    if isinstance(obj, (dm.Panel, dm.RowPanel)) and obj.type_val not in PANEL_TYPES:
        errors.append(f"{path}.type: panel type {obj.type_val!r} is not one the schema models "
                      f"({', '.join(sorted(PANEL_TYPES))})")


def diff(a, b, path: str, out: list) -> None:
    """Where the JSON values a (the file) and b (the SDK's rewrite) differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a.keys() - b.keys():
            out.append(f"{path}.{k}: not in the schema (the SDK's model dropped it)")
        for k in b.keys() - a.keys():
            out.append(f"{path}.{k}: missing; the SDK's model writes {json.dumps(b[k])[:60]}")
        for k in a.keys() & b.keys():
            diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: {json.dumps(a)[:60]} reads back as {json.dumps(b)[:60]}")


def check_roundtrip(data, model, path: str, errors: list) -> None:
    back = json.loads(json.dumps(model, cls=JSONEncoder))
    diff(data, back, path or "$", errors)


def validate(data) -> list:
    errors: list = []
    if not isinstance(data, dict):
        return ["the file is not a JSON object"]
    try:
        dash = dm.Dashboard.from_json(data)
    except Exception as e:  # from_json indexes into the data: a wrong shape raises
        return [f"the SDK cannot parse it: {type(e).__name__}: {e}"]
    check_roundtrip(data, dash, "", errors)
    check_model(dash, "", errors)
    return errors


def main(argv: list) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    failed = 0
    for path in argv:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            failed += 1
            continue
        errors = validate(data)
        for e in errors:
            print(f"{path}: {e}", file=sys.stderr)
        if errors:
            failed += 1
        else:
            print(f"{path}: valid (Grafana dashboard schema of grafana-foundation-sdk, schemaVersion "
                  f"{data.get('schemaVersion')})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
