"""The delivery SDK: read published content, sync it, build image URLs.

    from stackyard.client.delivery import Stack, QueryOperation
    stack = Stack("blt...", "cs...", "production", host="http://127.0.0.1:8080")
    stack.content_type("article").entry("blt1").fetch()["entry"]
    q = stack.content_type("article").query().where("rating", QueryOperation.IS_GREATER_THAN, 3)
    q.include_reference("author").order_by_descending("rating").limit(25).find()["entries"]
    items, token = stack.sync()              # everything; later stack.sync(token) for the changes
    stack.image_transform(url, width=100).get_url()

The official `contentstack.Stack` examples run with only the import changed
(`import stackyard.client.delivery as contentstack`). `AsyncStack` is the async twin.
"""

from stackyard.errors import APIError, NotFound, RateLimited

from .._errors import ConnectionFailed
from .query import Asset, AssetQuery, ContentType, Entry, GlobalField, Query, QueryOperation, QueryType
from .stack import AsyncStack, ImageTransform, Stack

__all__ = [
    "APIError",
    "Asset",
    "AssetQuery",
    "AsyncStack",
    "ConnectionFailed",
    "ContentType",
    "Entry",
    "GlobalField",
    "ImageTransform",
    "NotFound",
    "Query",
    "QueryOperation",
    "QueryType",
    "RateLimited",
    "Stack",
]
