"""Every SDK call against the catalogue (reference/contentstack_api.md §2): method, path, query, body.

A table, one row per call, checked on a recording transport. Resources the server does not serve
yet (assets, branches, releases, webhooks, workflows, taxonomies...) are pinned here so their wire
shape is right on the day the routes arrive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackyard.client.management import Client
from stackyard.client.management.stack import Stack

Call = Callable[[Stack[Any, Any], Path], Any]
D = {"x": 1}

ROWS: list[tuple[str, Call, str, str, dict[str, str], Any]] = [
    # name, call, method, path, query, JSON body (None: none or not JSON)
    ("stack users", lambda s, f: s.users(), "GET", "stacks/users", {}, None),
    ("stack roles", lambda s, f: s.update_user_role(D), "PUT", "stacks/users/roles", {}, D),
    ("stack transfer", lambda s, f: s.transfer_ownership(D), "POST", "stacks/transfer_ownership", {}, D),
    ("stack settings", lambda s, f: s.settings(), "GET", "stacks/settings", {}, None),
    ("stack create settings", lambda s, f: s.create_stack_settings(D), "POST", "stacks/settings", {}, D),
    ("stack reset", lambda s, f: s.reset_settings(), "POST", "stacks/settings/reset", {}, {"stack_settings": {}}),
    ("stack share", lambda s, f: s.share_stack(D), "POST", "stacks/share", {}, D),
    ("stack unshare", lambda s, f: s.unshare(D), "POST", "stacks/unshare", {}, D),
    ("ct references", lambda s, f: s.content_types("ct").references(), "GET", "content_types/ct/references",
     {"include_global_fields": "true", "include_branch": "false"}, None),
    ("ct fetch", lambda s, f: s.content_type("ct").fetch(), "GET", "content_types/ct",
     {"include_global_field_schema": "true", "include_branch": "false"}, None),
    ("ct export", lambda s, f: s.content_types("ct").export(), "GET", "content_types/ct/export", {}, None),
    ("ct rules", lambda s, f: s.content_types("ct").set_field_visibility_rules(D), "PUT", "content_types/ct", {}, D),
    ("gf delete", lambda s, f: s.global_fields("g").delete(), "DELETE", "global_fields/g", {}, None),
    ("gf export", lambda s, f: s.global_field("g").export(), "GET", "global_fields/g/export", {}, None),
    ("gf import", lambda s, f: s.global_fields().imports(str(f)), "POST", "global_fields/import", {}, None),
    ("entry update", lambda s, f: s.content_types("ct").entry("e").update(D, "fr-fr"), "PUT",
     "content_types/ct/entries/e", {"locale": "fr-fr"}, D),
    ("entry localize", lambda s, f: s.content_types("ct").entry("e").localize(D, "fr-fr"), "PUT",
     "content_types/ct/entries/e", {"locale": "fr-fr"}, D),
    ("entry unlocalize", lambda s, f: s.content_types("ct").entry("e").unlocalize("fr-fr"), "POST",
     "content_types/ct/entries/e/unlocalize", {"locale": "fr-fr"}, None),
    ("entry name", lambda s, f: s.content_types("ct").entry("e").version_naming(2, D), "POST",
     "content_types/ct/entries/e/versions/2/name", {}, D),
    ("entry versions", lambda s, f: s.content_types("ct").entry("e").versions("fr-fr"), "GET",
     "content_types/ct/entries/e/versions", {"locale": "fr-fr"}, None),
    ("entry unname", lambda s, f: s.content_types("ct").entry("e").delete_version_name(2), "DELETE",
     "content_types/ct/entries/e/versions/2/name", {}, None),
    ("entry refs", lambda s, f: s.content_types("ct").entry("e").references(), "GET",
     "content_types/ct/entries/e/references", {}, None),
    ("entry locales", lambda s, f: s.content_types("ct").entry("e").languages(), "GET",
     "content_types/ct/entries/e/locales", {}, None),
    ("entry export", lambda s, f: s.content_types("ct").entry("e").export(), "GET",
     "content_types/ct/entries/e/export", {}, None),
    ("entry import", lambda s, f: s.content_types("ct").entry().imports(str(f)), "POST",
     "content_types/ct/entries/import", {"locale": "en-us"}, None),
    ("entry import into", lambda s, f: s.content_types("ct").entry("e").imports(str(f), "fr-fr", True), "POST",
     "content_types/ct/entries/e/import", {"locale": "fr-fr", "overwrite": "true"}, None),
    ("entry publish", lambda s, f: s.content_types("ct").entry("e").publish(D), "POST",
     "content_types/ct/entries/e/publish", {}, D),
    ("entry unpublish", lambda s, f: s.content_types("ct").entry("e").unpublish(D), "POST",
     "content_types/ct/entries/e/unpublish", {}, D),
    ("entry delete locale", lambda s, f: s.content_types("ct").entry("e").delete(locale="fr-fr"), "DELETE",
     "content_types/ct/entries/e", {"force": "true", "locale": "fr-fr"}, None),
    ("dtoken", lambda s, f: s.delivery_token("t").fetch(), "GET", "stacks/delivery_tokens/t", {}, None),
    ("dtoken preview", lambda s, f: s.delivery_token("t").create_preview_token(), "POST",
     "stacks/delivery_tokens/t/preview_token", {}, None),
    ("dtoken preview delete", lambda s, f: s.delivery_token("t").delete_preview_token(), "DELETE",
     "stacks/delivery_tokens/t/preview_token", {}, None),
    ("mtoken", lambda s, f: s.management_token().create(D), "POST", "stacks/management_tokens", {}, D),
    ("role", lambda s, f: s.roles("r").update(D), "PUT", "roles/r", {}, D),
    ("label", lambda s, f: s.label().update(D, "l"), "PUT", "labels/l", {}, D),
    ("extension", lambda s, f: s.extension("x").delete(), "DELETE", "extensions/x", {}, None),
    ("metadata publish", lambda s, f: s.metadata("m").publish(D), "POST", "metadata/m/publish", {}, D),
    ("locale fallback", lambda s, f: s.locale().set_fallback(D), "POST", "locales", {}, D),
    ("audit", lambda s, f: s.auditlog("a").fetch(), "GET", "audit-logs/a", {}, None),
    # assets and folders (§2.5)
    ("asset find", lambda s, f: s.assets().find(), "GET", "assets", {}, None),
    ("asset fetch at call", lambda s, f: s.assets().fetch("a1"), "GET", "assets/a1", {}, None),
    ("asset delete at call", lambda s, f: s.assets().delete("a1"), "DELETE", "assets/a1", {}, None),
    ("asset folder delete", lambda s, f: s.assets().delete(folder_uid="f1"), "DELETE", "assets/folders/f1", {}, None),
    ("asset specific folder", lambda s, f: s.assets().specific_folder("f1"), "GET", "assets", {"folder": "f1"}, None),
    ("asset subfolders", lambda s, f: s.assets().subfolders("f1"), "GET", "assets",
     {"include_folders": "true", "folder": "f1"}, None),
    ("asset get subfolders", lambda s, f: s.assets().get_subfolders("f1"), "GET", "assets",
     {"include_folders": "true", "folder": "f1", "query": '{"is_dir":true}'}, None),
    ("asset folder by name", lambda s, f: s.assets().folder_by_name("Logos"), "GET", "assets",
     {"query": '{"is_dir":true,"name":"Logos"}'}, None),
    ("asset folder", lambda s, f: s.assets().folder_collection(folder_uid="f1"), "GET", "assets/folders/f1", {}, None),
    ("asset upload", lambda s, f: s.assets().upload(str(f)), "POST", "assets", {}, None),
    ("asset replace", lambda s, f: s.assets("a1").replace(str(f)), "PUT", "assets/a1", {}, None),
    ("asset generate", lambda s, f: s.assets("a1").generate(D), "PUT", "assets/a1", {}, D),
    ("asset revision", lambda s, f: s.assets("a1").update_asset_revision(D), "PUT", "assets/a1", {}, D),
    ("asset download", lambda s, f: s.assets("a1").download(), "GET", "assets/K/a1", {}, None),
    ("asset rte", lambda s, f: s.assets().rte(), "GET", "assets/rt", {}, None),
    ("asset type", lambda s, f: s.assets().specific_asset_type("images"), "GET", "assets/images", {}, None),
    ("asset name version", lambda s, f: s.assets("a1").version_naming(1, D), "POST", "assets/a1/versions/1/name", {}, D),
    ("asset versions", lambda s, f: s.assets("a1").version(), "GET", "assets/a1/versions", {}, None),
    ("asset unname", lambda s, f: s.assets("a1").version_delete(1), "DELETE", "assets/a1/versions/1/name", {}, None),
    ("asset refs", lambda s, f: s.assets("a1").references(), "GET", "assets/a1/references", {}, None),
    ("asset publish", lambda s, f: s.assets("a1").publish(D), "POST", "assets/a1/publish", {}, D),
    ("asset unpublish", lambda s, f: s.assets("a1").unpublish(D), "POST", "assets/a1/unpublish", {}, D),
    ("folder create", lambda s, f: s.assets().create_folder(D), "POST", "assets/folders", {}, D),
    ("folder move", lambda s, f: s.assets().update_or_move("f1", D), "PUT", "assets/folders/f1", {}, D),
    # branches, aliases (§2.6)
    ("branch create", lambda s, f: s.branch().create(D), "POST", "stacks/branches", {}, D),
    ("branch delete", lambda s, f: s.branch("dev").delete(), "DELETE", "stacks/branches/dev", {}, None),
    ("alias assign", lambda s, f: s.branch_alias("live").assign(D), "PUT", "stacks/branch_aliases/live", {}, D),
    ("alias find", lambda s, f: s.branch_alias().find(), "GET", "stacks/branch_aliases", {}, None),
    # bulk (§2.7)
    ("bulk publish", lambda s, f: s.bulk_operation().publish(D), "POST", "bulk/publish", {}, D),
    ("bulk unpublish", lambda s, f: s.bulk_operation().unpublish(D), "POST", "bulk/unpublish", {}, D),
    ("bulk delete", lambda s, f: s.bulk_operation().delete(D), "POST", "bulk/delete", {}, D),
    ("bulk workflow", lambda s, f: s.bulk_operation().update(D), "POST", "bulk/workflow", {}, D),
    ("bulk add", lambda s, f: s.bulk_operation().add_items(D), "POST", "bulk/release/items", {}, D),
    ("bulk update items", lambda s, f: s.bulk_operation().update_items(D), "PUT", "bulk/release/update_items", {}, D),
    ("bulk job", lambda s, f: s.bulk_operation().job_status("JOB 1"), "GET", "bulk/jobs/JOB%201", {}, None),
    # publish queue, releases (§2.9)
    ("queue", lambda s, f: s.publish_queue().find(), "GET", "publish-queue", {}, None),
    ("queue cancel", lambda s, f: s.publish_queue("q").cancel(), "GET", "publish-queue/q/unschedule", {}, None),
    ("release deploy", lambda s, f: s.releases("r").deploy(D), "POST", "releases/r/deploy", {}, D),
    ("release clone", lambda s, f: s.releases("r").clone(D), "POST", "releases/r/clone", {}, D),
    ("items find", lambda s, f: s.releases("r").item().find(), "GET", "releases/r/items", {}, None),
    ("item create", lambda s, f: s.releases("r").item().create(D), "POST", "releases/r/item", {}, D),
    ("items create", lambda s, f: s.releases("r").item().create_multiple(D), "POST", "releases/r/items", {}, D),
    ("items update", lambda s, f: s.releases("r").item().update(D), "PUT", "releases/r/update_items", {}, D),
    ("items delete", lambda s, f: s.releases("r").item().delete(D), "DELETE", "releases/r/items", {}, D),
    ("items delete all", lambda s, f: s.releases("r").item().delete_multiple(D), "DELETE", "releases/r/items",
     {"all": "true"}, D),
    ("items move", lambda s, f: s.releases("r").item().move(D), "POST", "releases/r/items/move", {}, D),
    # webhooks, workflows (§2.10, §2.11)
    ("webhook export", lambda s, f: s.webhooks("w").export(), "GET", "webhooks/w/export", {}, None),
    ("webhook import", lambda s, f: s.webhooks().imports(str(f)), "POST", "webhooks/import", {}, None),
    ("webhook executions", lambda s, f: s.webhooks("w").executions(), "GET", "webhooks/w/executions", {}, None),
    ("webhook retry", lambda s, f: s.webhooks().retry("x"), "POST", "webhooks/x/retry", {}, None),
    ("webhook logs", lambda s, f: s.webhooks().logs("x"), "GET", "webhooks/x/logs", {}, None),
    ("workflow disable", lambda s, f: s.workflows("w").disable(), "GET", "workflows/w/disable", {}, None),
    ("workflow enable", lambda s, f: s.workflows("w").enable(), "GET", "workflows/w/enable", {}, None),
    ("workflow stage", lambda s, f: s.workflows().set_workflow_stage("ct", "e", D), "POST",
     "content_types/ct/entries/e/workflow", {}, D),
    ("workflow approval", lambda s, f: s.workflows().publish_request_approval("ct", "e"), "GET",
     "content_types/ct/entries/e/workflow", {}, None),
    ("rule create", lambda s, f: s.workflows().create_publish_rule(D), "POST", "workflows/publishing_rules", {}, D),
    ("rule update", lambda s, f: s.workflows().update_publish_rule("ru", D), "PUT", "workflows/publishing_rules/ru",
     {}, D),
    ("rule delete", lambda s, f: s.workflows().delete_publish_rule("ru"), "DELETE", "workflows/publishing_rules/ru",
     {}, None),
    ("rule fetch", lambda s, f: s.workflows().fetch_publish_rule("ru"), "GET", "workflows/publishing_rules/ru", {}, None),
    ("rules", lambda s, f: s.workflows().fetch_publish_rules(), "GET", "workflows/publishing_rules", {}, None),
    ("rules ct", lambda s, f: s.workflows().fetch_publish_rule_content_type("ct"), "GET", "workflows/content_type/ct",
     {}, None),
    ("tasks", lambda s, f: s.workflows().fetch_tasks(), "GET", "user/assignments", {}, None),
    # taxonomies, terms (§2.12)
    ("taxonomy fetch at call", lambda s, f: s.taxonomy().fetch("t"), "GET", "taxonomies/t", {}, None),
    ("taxonomy delete", lambda s, f: s.taxonomy("t").delete(), "DELETE", "taxonomies/t", {}, None),
    ("terms find", lambda s, f: s.taxonomy("t").terms().find(), "GET", "taxonomies/t/terms", {}, None),
    ("term create", lambda s, f: s.taxonomy("t").terms().create(D), "POST", "taxonomies/t/terms", {}, D),
    ("term search", lambda s, f: s.taxonomy("t").terms().search("eu ro"), "GET", "taxonomies/t/terms",
     {"term": "eu ro"}, None),
    ("term move", lambda s, f: s.taxonomy("t").terms("x").move(D), "PUT", "taxonomies/t/terms/x", {}, D),
    ("term ancestors", lambda s, f: s.taxonomy("t").terms("x").ancestors(), "GET", "taxonomies/t/terms/x/ancestors",
     {}, None),
    ("term descendants", lambda s, f: s.taxonomy("t").terms().descendants("x"), "GET",
     "taxonomies/t/terms/x/descendants", {}, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_call_matches_the_catalogue(
    tmp_path: Path, call: Call, method: str, path: str, query: dict[str, str], body: Any
) -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    upload = tmp_path / "file.json"
    upload.write_text('{"uid": "x"}')
    with Client(base_url="http://cms.test", authtoken="t", transport=httpx.MockTransport(record)) as client:
        call(client.stack("K"), upload)
    (request,) = seen
    assert request.method == method
    assert request.url.raw_path.decode().split("?")[0] == "/v3/" + path
    assert dict(request.url.params) == query
    assert request.headers["api_key"] == "K"
    if body is not None:
        assert json.loads(request.content) == body
    elif request.headers.get("content-type", "").startswith("multipart/form-data; boundary="):
        assert b'filename="file.json"' in request.content
    else:
        assert request.content == b""
