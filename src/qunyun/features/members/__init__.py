"""Members: daily rollup, activity scores, roles with reasons, leaderboards and profiles (issue 4)."""
