"""The provider edge."""
