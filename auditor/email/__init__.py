"""Email: messages composed as multipart text+HTML, sent over SMTP with retries, recorded
in the ``deliveries`` table so that nothing is sent twice; digests, the IT summary and
urgent alerts are built on top of that."""
