"""Grid time-of-use periods per province, as data (sample.toml ships as an example; a
deployer points CHARGENET_GRID_TOU_FILE at the table its price authority published)."""
