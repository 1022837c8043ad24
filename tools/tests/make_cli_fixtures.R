# The files the emcluster command's file tests read (tools/tests/cli_files.sh): R's own data
# sets written the ways R users write them. Run from tools/tests/ with R (Debian r-base-core):
#   Rscript make_cli_fixtures.R
# The files are checked in; the tests need no R.
dir.create("data", showWarnings = FALSE)
write.csv(faithful, "data/faithful_write_csv.csv")             # "" header: row names
write.csv2(faithful, "data/faithful_write_csv2.csv")           # ';' and decimal commas
write.table(faithful, "data/faithful_write_table.txt")         # space, header one field short
write.table(faithful, "data/faithful_tab.tsv", sep = "\t", quote = FALSE)  # tab, short header
write.csv(faithful, "data/faithful_plain.csv", row.names = FALSE)
write.csv(faithful[, c("waiting", "eruptions")], "data/faithful_swapped.csv", row.names = FALSE)
write.csv(airquality, "data/airquality.csv")                   # NA cells (42 rows of 153)
write.csv(iris, "data/iris.csv")                               # a text column (Species)
write.csv(quakes, "data/quakes.csv")
