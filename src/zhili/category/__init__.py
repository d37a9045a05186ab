"""Categories (事项分类), their deadlines, and the responsibility rules (派单目录) that route appeals."""
