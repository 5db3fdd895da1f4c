"""The seed reference's examples, copied verbatim, run against a live server with only the import changed.

Each snippet below is text from `reference/001_*.txt` (the official SDK's API reference). The test
swaps `import contentstack_management` for our SDK and fills the placeholder credentials
('auth_token', 'api_key', 'organization_uid') with real ones; other placeholders ('content_type_uid',
'environment_name') are made real by creating objects with exactly those names. `Client()` with no
host reaches the live server through $STACKYARD_URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.client.management import Response
from tests.conftest import Live, User

OURS = "import stackyard.client.management as contentstack_management"

USER_FETCH = """
import contentstack_management
client = contentstack_management.Client(authtoken='auth_token')
response = client.user().fetch()
"""

USER_UPDATE = """
body ={
   "user": {
      "company": "company name inc.",
      "first_name": "Your name"
     }
  }
import contentstack_management
client = contentstack_management.Client(authtoken='auth_token')
user = client.user()
response = user.update(body)
"""

ORGANIZATIONS = """
import contentstack_management
client = contentstack_management.Client(authtoken='auth_token')
response = client.organizations().find()
"""

ORGANIZATION_FETCH = """
import contentstack_management
client = contentstack_management.Client(authtoken='auth_token')

response = client.organizations('organization_uid').fetch().json()
"""

STACK_CREATE = """
data = {
   "stack": {
        "name": "My New Stack",
        "description": "My new test stack",
        "master_locale": "en-us"
        }
     }
import contentstack_management
client = contentstack_management.Client(authtoken='auth_token')
response = client.stack().create('organization_uid', data).json()
"""

STACK_UPDATE = """
data = {
"stack": {
    "name": "My New Stack",
    "description": "My new test stack",
    "master_locale": "en-us"
    }
}
import contentstack_management
client = contentstack_management.Client(authtoken='auth_token')
response = client.stack('api_key').update(data).json()
"""

ENVIRONMENT_FETCH = """
import contentstack_management
client = contentstack_management.Client(authtoken='authtoken')
response = client.stack('api_key').environments('environment_name').fetch().json()
"""

ENVIRONMENTS_FIND = """
import contentstack_management
client = contentstack_management.Client(authtoken='authtoken')
response = client.stack("api_key").environments().find().json()
"""

LOCALE_CREATE = """
data = {
"locale":{
          "name":"Arabic - Bahrain",
          "code":"ar-bh",
          "fallback_locale":"en-us"
       }
     }
import contentstack_management
client = contentstack_management.Client(authtoken='your_authtoken')
response = client.stack('api_key').locale().create(data).json()
"""

CONTENT_TYPE_FIND = """
import contentstack
import contentstack_management
content_type = contentstack_management.Client(authtoken='auth_token').stack(api_key='api_key').content_type()
response = content_type.find()
"""

ENTRY_ADD_PARAM = """
import contentstack_management
client = contentstack_management.Client(authtoken='your_authtoken')
query = client.stack('api_key').content_types('content_type_uid').entry()
query.add_param("limit", 2)
result = query.find()
"""

ENTRY_ADD_PARAM_DICT = """
import contentstack_management
testdict =	{
  "limit": 2,
  "skip": 2,
  "include_branch": True
}

client = contentstack_management.Client(authtoken='your_authtoken')
query = client.stack('api_key').content_types('content_type_uid').entry()
query.add_param_dict(testdict)
result = query.find()
"""


def run(snippet: str, owner: User, api_key: str) -> Any:
    """Execute a seed snippet with our SDK in place of the official one; answers its result."""
    code = snippet.replace("import contentstack_management", OURS)
    code = code.replace("import contentstack\n", "")  # the delivery SDK import some snippets carry
    for placeholder in ("'auth_token'", "'authtoken'", "'your_authtoken'"):
        code = code.replace(placeholder, repr(owner.authtoken))
    for placeholder in ("'api_key'", '"api_key"'):
        code = code.replace(placeholder, repr(api_key))
    code = code.replace("'organization_uid'", repr(owner.org_uid))
    scope: dict[str, Any] = {}
    exec(compile(code, "<seed>", "exec"), scope)
    return scope.get("response", scope.get("result"))


@pytest.fixture
def seeded(live: Live, owner: User, api_key: str, sdk: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The live server as the default address, and objects named like the seed's placeholders."""
    monkeypatch.setenv("STACKYARD_URL", live.url)
    stack = sdk.stack(api_key)
    stack.environments().create({"environment": {"name": "environment_name"}})
    schema = [{"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True}]
    stack.content_types().create(
        {"content_type": {"title": "CT", "uid": "content_type_uid", "schema": schema}}
    )
    for n in range(5):
        stack.content_types("content_type_uid").entry().create({"entry": {"title": f"entry {n}"}})
    return api_key


def test_account_examples(seeded: str, owner: User) -> None:
    assert isinstance(run(USER_FETCH, owner, seeded), Response)
    assert run(USER_UPDATE, owner, seeded).json()["user"]["company"] == "company name inc."
    assert [o["uid"] for o in run(ORGANIZATIONS, owner, seeded).json()["organizations"]] == [owner.org_uid]
    assert run(ORGANIZATION_FETCH, owner, seeded)["organization"]["uid"] == owner.org_uid


def test_stack_examples(seeded: str, owner: User) -> None:
    assert run(STACK_CREATE, owner, seeded)["stack"]["name"] == "My New Stack"
    assert run(STACK_UPDATE, owner, seeded)["stack"]["api_key"] == seeded
    assert run(ENVIRONMENT_FETCH, owner, seeded)["environment"]["name"] == "environment_name"
    assert [e["name"] for e in run(ENVIRONMENTS_FIND, owner, seeded)["environments"]] == ["environment_name"]
    assert run(LOCALE_CREATE, owner, seeded)["locale"]["fallback_locale"] == "en-us"


def test_content_examples(seeded: str, owner: User) -> None:
    assert [c["uid"] for c in run(CONTENT_TYPE_FIND, owner, seeded).json()["content_types"]] == [
        "content_type_uid"
    ]
    assert len(run(ENTRY_ADD_PARAM, owner, seeded).json()["entries"]) == 2
    page = run(ENTRY_ADD_PARAM_DICT, owner, seeded).json()["entries"]
    assert len(page) == 2
