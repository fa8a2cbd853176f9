"""The production checklist: items as data, one black-box check per item, and the
engine that starts a learner's app and runs them (``course check``)."""
