"""Active learning without a click: ``receiver`` (the webhook receiver that runs iterations after N new
annotations) and ``registration`` (the webhook in Label Studio and the per-project automation settings)."""
