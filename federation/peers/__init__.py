"""Which servers this instance federates with: `policy` (the one place that says yes or no),
`decisions` (admins allow, block, import and export), `subscriptions` (published peer lists),
`contacts` (requests counted, refused knocks recorded) and `greeting` (telling a newly allowed
peer we are open)."""
