"""What the HTTP API and the web pages share: security headers, and how errors are answered."""
