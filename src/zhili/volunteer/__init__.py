"""Volunteers (志愿者) in teams tied to a region or a grid, their activities and hours, and household
linking (联户): a representative or volunteer links 5–15 households and logs contacts with them."""
