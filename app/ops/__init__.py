"""Running Tiaojie for real: start-up checks, logs, metrics, backups and moving databases."""
