"""Validators of the official feed schemas (JSON Feed 1.1, IPTC ninjs), offline."""

from __future__ import annotations

from typing import Any

from tests.support.paths import SCHEMAS_DIR


def jsonfeed_validator() -> Any:
    """Draft-07 validator of the official JSON Feed 1.1 schema, with format checking."""
    import json

    from jsonschema import Draft7Validator, FormatChecker

    schema = json.loads((SCHEMAS_DIR / "jsonfeed" / "schema-v1.1.json").read_text("utf-8"))
    return Draft7Validator(schema, format_checker=FormatChecker())


def ninjs_validator(version: str) -> Any:
    """Validator of the official IPTC ninjs schema ``version`` (3.1 or 2.2), offline: the
    GeoJSON schema they reference is registered from the local copy."""
    import json

    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    folder = SCHEMAS_DIR / "ninjs"
    schema = json.loads((folder / f"ninjs-schema_{version}.json").read_text("utf-8"))
    geojson = json.loads((folder / "GeoJSON-schema.json").read_text("utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        "https://geojson.org/schema/GeoJSON.json", Resource.from_contents(geojson)
    )
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def schema_errors(validator: Any, instance: Any) -> list[str]:
    """Every validation error as "path: message" (empty when valid)."""
    return [
        "/".join(str(part) for part in error.absolute_path) + ": " + error.message
        for error in validator.iter_errors(instance)
    ]
