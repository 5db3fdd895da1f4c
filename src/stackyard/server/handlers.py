"""The domain modules that register job handlers (`@job_runner.handler`): imported by every process
that runs jobs (`stackyard serve`, `stackyard worker`), so each knows every kind. A domain with a
new job kind adds its module here.
"""

from stackyard.content.assets import assets as asset_records
from stackyard.content.assets import publishing as asset_publishing
from stackyard.content.publishing import bulk as publishing_bulk
from stackyard.content.publishing import entries as publishing_entries
from stackyard.content.publishing import releases as publishing_releases
from stackyard.identity import purge

MODULES = (purge, publishing_entries, publishing_bulk, publishing_releases, asset_publishing, asset_records)
