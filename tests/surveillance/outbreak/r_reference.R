# Reference outputs from R's `surveillance` for bundled datasets.
# Usage: Rscript r_reference.R OUTDIR SPEC...   where SPEC is DATASET (every setting) or
# DATASET=SETTING,SETTING,... (only those). One process serves many datasets: loading the
# package costs more CPU than most settings. Per dataset it writes OUTDIR/DATASET__input.csv
# (the series: one column of the dataset), one OUTDIR/DATASET__SETTING.csv per detector setting
# (t, observed, upperbound, alarm, extras) with its control JSON, DATASET__cpu.csv (R's CPU
# seconds per setting), and DATASET.failed if the dataset could not be run at all.
suppressMessages(library(surveillance))
options(warn = -1)
args <- commandArgs(trailingOnly = TRUE)
outdir <- args[1]

reference <- function(name, wanted) {
  # Two synthetic series for R's edge behaviour: a flat baseline with spikes, and sparse counts.
  if (name == "synthetic_flat") {
    y0 <- rep(3, 320); y0[c(100, 150, 290, 300, 301, 315)] <- c(9, 12, 8, 20, 14, 3)
    obj <- sts(observed = y0, freq = 52, start = c(2000, 1))
  } else if (name == "synthetic_sparse") {
    y0 <- rep(0, 320); y0[c(7, 60, 111, 170, 222, 275, 290, 300, 301, 302, 310)] <- c(1, 1, 2, 1, 1, 1, 3, 4, 6, 2, 1)
    obj <- sts(observed = y0, freq = 52, start = c(2000, 1))
  } else {
    e <- new.env()
    data(list = name, package = "surveillance", envir = e)
    obj <- get(name, envir = e)
  }
  if (name == "campyDE") {
    obj <- sts(observed = obj$case, epoch = as.numeric(obj$date), epochAsDate = TRUE,
               freq = 52, start = c(2002, 1))
  }
  s <- if (inherits(obj, "sts")) obj else disProg2sts(obj)
  j <- which.max(colSums(observed(s), na.rm = TRUE))
  s <- s[, j]
  n <- nrow(observed(s))
  y <- as.numeric(observed(s)[, 1])

  input <- data.frame(observed = y, population = as.numeric(population(s)[, 1]),
                      year = year(s), epoch_in_year = epochInYear(s))
  if (s@epochAsDate) input$date <- format(as.Date(s@epoch, origin = "1970-01-01"))
  write.csv(input, file.path(outdir, paste0(name, "__input.csv")), row.names = FALSE)

  fmt <- function(x) ifelse(is.na(x) & !is.nan(x), "NA", formatC(x, digits = 17, format = "g"))
  # A setting R itself cannot run on this series (an R error) is skipped, and reported in a file.
  # Settings not wanted are not run (`expr` is a promise, never forced).
  cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
  spent <- list()
  attempt <- function(setting, expr) {
    if (!is.null(wanted) && !(setting %in% wanted)) return(invisible(NULL))
    t0 <- cpu()
    tryCatch(expr, error = function(err) {
      writeLines(conditionMessage(err), file.path(outdir, paste0(name, "__", setting, ".error")))
    })
    spent[[setting]] <<- cpu() - t0
  }
  emit <- function(setting, t, upper, alarm, extra = list()) {
    df <- data.frame(t = t, observed = y[t], upperbound = fmt(as.numeric(upper)),
                     alarm = ifelse(is.na(alarm), "NA", ifelse(as.logical(alarm), "true", "false")))
    for (k in names(extra)) df[[k]] <- fmt(as.numeric(extra[[k]]))
    write.csv(df, file.path(outdir, paste0(name, "__", setting, ".csv")), row.names = FALSE, quote = FALSE)
  }
  control_json <- function(setting, ctl) {
    writeLines(jsonlite_free(ctl), file.path(outdir, paste0(name, "__", setting, ".json")))
  }
  jsonlite_free <- function(ctl) {
    parts <- character(0)
    for (k in names(ctl)) {
      v <- ctl[[k]]
      val <- if (is.list(v)) jsonlite_free(v) else if (is.character(v)) paste0('"', v, '"') else if (is.logical(v)) tolower(as.character(v))
             else if (length(v) > 1) paste0("[", paste(format(v, digits = 17), collapse = ","), "]")
             else format(v, digits = 17)
      parts <- c(parts, paste0('"', k, '":', val))
    }
    paste0("{", paste(parts, collapse = ","), "}")
  }

  # Farrington family: b as large as the series allows (at most 5), last 20 weeks monitored
  # (R's farringtonFlexible needs 5-25 ms a week; this keeps the whole run near a minute).
  b <- min(5, (n - 8) %/% 52)
  ffirst <- max(52 * b + 3 + 1, n - 19)
  frange <- c(ffirst, n)
  flex <- list(
    ff_default = list(),
    ff_1996 = list(weightsThreshold = 1, pThresholdTrend = 0.05, pastWeeksNotIncluded = 3, alpha = 0.025),
    ff_noufaily_nb = list(weightsThreshold = 2.58, pThresholdTrend = 1, noPeriods = 10,
                          pastWeeksNotIncluded = 26, thresholdMethod = "nbPlugin"),
    ff_noufaily_muan = list(weightsThreshold = 2.58, pThresholdTrend = 1, noPeriods = 10,
                            pastWeeksNotIncluded = 26, thresholdMethod = "muan"),
    ff_noreweight = list(reweight = FALSE)
  )
  for (setting in names(flex)) attempt(setting, {
    ctl <- c(list(b = b, w = 3, range = frange), flex[[setting]])
    r <- farringtonFlexible(s, control = modifyList(ctl, list(range = frange[1]:frange[2])))
    ctl$range <- frange
    control_json(setting, ctl)
    emit(setting, frange[1]:frange[2], r@upperbound[, 1], r@alarm[, 1],
         list(expected = r@control$expected[, 1], phi = r@control$phiVector[, 1]))
  })

  # Classic farrington: the last 20 weeks, and the first weeks of R's default range (fewer references).
  classic <- list(farrington = c(max(52 * b - 3, n - 19), n), farrington_early = c(52 * b - 3, 52 * b + 5))
  for (setting in names(classic)) attempt(setting, {
    crange <- classic[[setting]]
    r <- algo.farrington(sts2disProg(s), control = list(b = b, w = 3, range = crange[1]:crange[2]))
    control_json(setting, list(b = b, w = 3, range = crange))
    emit(setting, crange[1]:crange[2], r$upperbound, r$alarm, list(trend = as.numeric(r$trend)))
  })

  for (m in c("C1", "C2", "C3")) attempt(paste0("ears", m), {
    r <- earsC(s, control = list(method = m))
    t <- seq_len(n)[seq_len(n) > n - nrow(observed(r))]
    control_json(paste0("ears", m), list(method = m))
    emit(paste0("ears", m), t, r@upperbound[, 1], r@alarm[, 1])
  })

  mfirst <- max(if (n >= 160) 110 else 60, n - 155)
  mrange <- c(mfirst, n)
  dp <- sts2disProg(s)
  cus <- list(cusum_standard = list(), cusum_glm = list(m = "glm"), cusum_rossi = list(trans = "rossi"),
              cusum_anscombe = list(trans = "anscombe"))
  for (setting in names(cus)) attempt(setting, {
    ctl <- c(list(range = mrange), cus[[setting]])
    r <- algo.cusum(dp, control = c(cus[[setting]], list(range = mrange[1]:mrange[2])))
    control_json(setting, ctl)
    emit(setting, mrange[1]:mrange[2], r$upperbound, r$alarm, list(statistic = r$cusum))
  })

  glr <- list(glrpois_value = list(alpha = 0), glrpois_cases = list(alpha = 0, ret = "cases"),
              glrpois_window = list(alpha = 0, M = 52), glrpois_theta = list(alpha = 0, theta = log(2)),
              glrnb_estimated = list(), glrnb_alpha = list(alpha = 0.2),
              glrnb_refit = list(mu0 = list(S = 2, trend = TRUE, refit = TRUE)))
  for (setting in names(glr)) attempt(setting, {
    ctl <- c(list(range = mrange), glr[[setting]])
    r <- suppressMessages(algo.glrnb(dp, control = c(glr[[setting]], list(range = mrange[1]:mrange[2]))))
    if (startsWith(setting, "glrnb_") && setting != "glrnb_alpha") ctl$alpha <- NULL
    control_json(setting, ctl)
    emit(setting, mrange[1]:mrange[2], r$upperbound, r$alarm, list(mu0 = r$control$mu0))
  })

  bay <- list(bayes1 = list(b = 0, w = 6, actY = TRUE), bayes2 = list(b = 1, w = 6, actY = TRUE),
              bayes3 = list(b = 2, w = 4, actY = FALSE))
  for (setting in names(bay)) attempt(setting, {
    ctl <- bay[[setting]]
    first <- max(mfirst, 52 * ctl$b + ctl$w + 1)
    stopifnot(first <= n)
    r <- algo.bayes(dp, control = c(ctl, list(range = first:n)))
    ctl$range <- c(first, n)
    control_json(setting, ctl)
    emit(setting, first:n, r$upperbound, r$alarm)
  })
  write.csv(data.frame(setting = names(spent), cpu = unlist(spent)), file.path(outdir, paste0(name, "__cpu.csv")),
            row.names = FALSE, quote = FALSE)
}

for (spec in args[-1]) {
  parts <- strsplit(spec, "=", fixed = TRUE)[[1]]
  wanted <- if (length(parts) > 1) strsplit(parts[2], ",", fixed = TRUE)[[1]] else NULL
  tryCatch(reference(parts[1], wanted), error = function(err) {
    writeLines(conditionMessage(err), file.path(outdir, paste0(parts[1], ".failed")))
  })
}
