"""mystmd runs this (template.yml `build.render`) with CONTENT_CDN and BUILD_DIRECTORY set."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for `course`

from course.authoring.site import main

sys.exit(main())
