"""Assets: storage backends, uploads, folders, versions and image transforms (see the assets issue)."""
