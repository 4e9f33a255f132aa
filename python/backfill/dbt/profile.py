"""The profile and target a project runs against, rendered by dbt itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from backfill.errors import DbtProjectError


def default_profiles_dir(project_dir: Path) -> Optional[str]:
    """dbt's own order: DBT_PROFILES_DIR, then a profiles.yml beside the project, then ~/.dbt."""
    if os.environ.get("DBT_PROFILES_DIR"):
        return os.environ["DBT_PROFILES_DIR"]
    if (project_dir / "profiles.yml").exists():
        return str(project_dir)
    return None


def credentials_and_target(project_dir: Path, profiles_dir: Optional[str], target: Optional[str], vars: dict):
    """(credentials, target name) of the selected target: --target, else the profile's default."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.project import load_raw_project
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(os.environ)  # env_var() in profiles.yml reads it
    raw_project = load_raw_project(str(project_dir))
    folder = profiles_dir or str(Path.home() / ".dbt")
    raw_profiles = read_profile(folder)
    renderer = ProfileRenderer(vars)
    profile_name = renderer.render_value(raw_project.get("profile"))
    if profile_name not in raw_profiles:
        raise DbtProjectError(f"No profile '{profile_name}' in {folder}/profiles.yml.")
    target_name, profile_data = Profile.render_profile(raw_profiles[profile_name], profile_name, target, renderer)
    return Profile._credentials_from_profile(profile_data, profile_name, target_name), target_name
