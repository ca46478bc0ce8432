-- Curated measurement sets (PostgreSQL): public reference sets that everyone can read and clone,
-- written by curators (level 5) and above. A few seeds ship so that a new instance is not empty.

CREATE TABLE curated_sets (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL,
    notes        TEXT    NOT NULL DEFAULT '',
    measurements TEXT    NOT NULL DEFAULT '{}',
    -- The curator who created it; NULL for the seeds (and once that account is deleted).
    created_by   BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);

INSERT INTO curated_sets (name, notes, measurements, created_at, updated_at) VALUES
    ('Reference: women''s EU 38 (168 cm)',
     'Typical body measurements for EU size 38 at 168 cm, compiled from public size charts. A starting point for testing drafts — not a substitute for measuring a person.',
     '{"ankle":230.0,"biceps":270.0,"bustFront":470.0,"bustPointToUnderbust":80.0,"bustSpan":180.0,"chest":880.0,"crossSeam":700.0,"crossSeamFront":330.0,"crotchDepth":260.0,"head":560.0,"heel":310.0,"highBust":840.0,"highBustFront":440.0,"hips":860.0,"hpsToBust":260.0,"hpsToWaistBack":410.0,"hpsToWaistFront":430.0,"inseam":780.0,"knee":370.0,"neck":340.0,"seat":960.0,"seatBack":490.0,"shoulderSlope":13.0,"shoulderToElbow":330.0,"shoulderToShoulder":380.0,"shoulderToWrist":590.0,"underbust":740.0,"upperLeg":560.0,"waist":700.0,"waistBack":350.0,"waistToArmpit":190.0,"waistToFloor":1050.0,"waistToHips":120.0,"waistToKnee":590.0,"waistToSeat":200.0,"waistToUnderbust":90.0,"waistToUpperLeg":260.0,"wrist":155.0}',
     1793491200, 1793491200),
    ('Reference: women''s EU 44 (168 cm)',
     'Typical body measurements for EU size 44 at 168 cm, compiled from public size charts. A starting point for testing drafts — not a substitute for measuring a person.',
     '{"ankle":245.0,"biceps":320.0,"bustFront":540.0,"bustPointToUnderbust":95.0,"bustSpan":200.0,"chest":1000.0,"crossSeam":760.0,"crossSeamFront":360.0,"crotchDepth":275.0,"head":570.0,"heel":325.0,"highBust":950.0,"highBustFront":500.0,"hips":980.0,"hpsToBust":285.0,"hpsToWaistBack":420.0,"hpsToWaistFront":450.0,"inseam":780.0,"knee":400.0,"neck":370.0,"seat":1080.0,"seatBack":550.0,"shoulderSlope":14.0,"shoulderToElbow":335.0,"shoulderToShoulder":400.0,"shoulderToWrist":600.0,"underbust":840.0,"upperLeg":640.0,"waist":820.0,"waistBack":410.0,"waistToArmpit":195.0,"waistToFloor":1060.0,"waistToHips":120.0,"waistToKnee":590.0,"waistToSeat":210.0,"waistToUnderbust":95.0,"waistToUpperLeg":270.0,"wrist":170.0}',
     1793491200, 1793491200),
    ('Reference: men''s EU 50 (180 cm)',
     'Typical body measurements for EU size 50 at 180 cm, compiled from public size charts. A starting point for testing drafts — not a substitute for measuring a person.',
     '{"ankle":250.0,"biceps":320.0,"chest":1000.0,"crossSeam":760.0,"crossSeamFront":360.0,"crotchDepth":280.0,"head":580.0,"heel":330.0,"hips":960.0,"hpsToWaistBack":450.0,"hpsToWaistFront":460.0,"inseam":820.0,"knee":400.0,"neck":400.0,"seat":1020.0,"seatBack":520.0,"shoulderSlope":12.0,"shoulderToElbow":360.0,"shoulderToShoulder":460.0,"shoulderToWrist":640.0,"upperLeg":580.0,"waist":880.0,"waistBack":440.0,"waistToArmpit":220.0,"waistToFloor":1100.0,"waistToHips":100.0,"waistToKnee":600.0,"waistToSeat":210.0,"waistToUpperLeg":290.0,"wrist":175.0}',
     1793491200, 1793491200),
    ('Reference: child, 8 years (128 cm)',
     'Typical body measurements of an 8-year-old at 128 cm, compiled from public size charts. A starting point for testing drafts — not a substitute for measuring a child.',
     '{"ankle":190.0,"biceps":200.0,"chest":640.0,"crotchDepth":190.0,"head":530.0,"hips":660.0,"hpsToWaistBack":300.0,"hpsToWaistFront":310.0,"inseam":570.0,"knee":280.0,"neck":290.0,"seat":700.0,"shoulderSlope":10.0,"shoulderToElbow":240.0,"shoulderToShoulder":300.0,"shoulderToWrist":440.0,"upperLeg":400.0,"waist":570.0,"waistToFloor":780.0,"waistToKnee":420.0,"wrist":130.0}',
     1793491200, 1793491200);
