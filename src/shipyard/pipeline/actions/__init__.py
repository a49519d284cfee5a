"""Actions a step can ``uses:``: built-ins, local composite and JavaScript actions."""
