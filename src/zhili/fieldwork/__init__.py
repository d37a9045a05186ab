"""The grid workers' field log: visits and patrols with a position trail, problems found on patrol
filed into the closed loop, patrol coverage per grid, and the door-knocking campaign (敲门行动)."""
