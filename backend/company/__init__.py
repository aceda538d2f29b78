"""The employer's side (issue 17): HR users of a contracting company do in the chat what the
company portal does (seed 003, the portal manual).

- `auth`: the portal login (user code + password) and its tokens, and who a company call is made
  for (`CompanyCaller`: the user, the company, the role) — by a login token or by a verified
  conversation (`identity`);
- `identity`: the chat's check — user code + CNPJ, a one-time code e-mailed to the user;
- `access`: first access, forgot password, forgot user (links e-mailed, the page that sets the password);
- `profile`: the company's data, contracted plans, change of contact data (a protocol);
- `users`: the portal's users — list, add (first-access link), edit, deactivate, reactivate (admins);
- `reports`: active and inactive beneficiaries, usage by month (CSV/PDF behind a signed link);
- `invoices`: invoices by year and the copy of an invoice's bank slip (backend.billing);
- `protocols`: the company's own protocols;
- `movements`, `movement_rules`, `movement_batch`: beneficiary movements one by one and by file.

The CNPJ, user code and company code as typed are read by common.company_documents (the bot's too).

A user sees only their own company's data; what only an admin may do says so (`require_admin`).
"""
