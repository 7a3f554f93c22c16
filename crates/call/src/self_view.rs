//! Where the self view sits on the stage: one of its four corners, chosen by dragging the tile
//! (it lands in the corner nearest to where it was let go) or with the arrow keys. For this
//! call only; nothing is stored.

/// A corner of the stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    #[default]
    BottomRight,
}

impl Corner {
    /// The corner of the quadrant that `(x, y)` falls in, on a stage `width` by `height`
    /// (a point outside it counts for the nearest edge's side).
    pub fn nearest(x: f64, y: f64, width: f64, height: f64) -> Corner {
        match (y < height / 2.0, x < width / 2.0) {
            (true, true) => Corner::TopLeft,
            (true, false) => Corner::TopRight,
            (false, true) => Corner::BottomLeft,
            (false, false) => Corner::BottomRight,
        }
    }

    /// Where an arrow key (`KeyboardEvent.key`) moves the tile; `None` for any other key (and
    /// for an arrow towards an edge it is already at, so that the key does nothing).
    pub fn moved(self, key: &str) -> Option<Corner> {
        let (top, left) = (self.is_top(), self.is_left());
        let (top, left) = match key {
            "ArrowUp" if !top => (true, left),
            "ArrowDown" if top => (false, left),
            "ArrowLeft" if !left => (top, true),
            "ArrowRight" if left => (top, false),
            _ => return None,
        };
        Some(Corner::of(top, left))
    }

    fn of(top: bool, left: bool) -> Corner {
        match (top, left) {
            (true, true) => Corner::TopLeft,
            (true, false) => Corner::TopRight,
            (false, true) => Corner::BottomLeft,
            (false, false) => Corner::BottomRight,
        }
    }

    pub fn is_top(self) -> bool {
        matches!(self, Corner::TopLeft | Corner::TopRight)
    }

    pub fn is_left(self) -> bool {
        matches!(self, Corner::TopLeft | Corner::BottomLeft)
    }

    /// The `data-corner` hook the stylesheet places the tile by.
    pub fn hook(self) -> &'static str {
        match self {
            Corner::TopLeft => "top-left",
            Corner::TopRight => "top-right",
            Corner::BottomLeft => "bottom-left",
            Corner::BottomRight => "bottom-right",
        }
    }

    /// The tile's accessible name: where it is and how to move it.
    pub fn label(self) -> String {
        format!(
            "Your video, in the {} corner. Drag it, or use the arrow keys, to move it.",
            self.hook().replace('-', " ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_let_go_lands_in_the_corner_of_its_quadrant() {
        let (w, h) = (1280.0, 720.0);
        assert_eq!(Corner::nearest(10.0, 10.0, w, h), Corner::TopLeft);
        assert_eq!(Corner::nearest(1200.0, 100.0, w, h), Corner::TopRight);
        assert_eq!(Corner::nearest(300.0, 500.0, w, h), Corner::BottomLeft);
        assert_eq!(Corner::nearest(641.0, 361.0, w, h), Corner::BottomRight);
        // Let go past the stage's edge: the side it went out on.
        assert_eq!(Corner::nearest(-50.0, 900.0, w, h), Corner::BottomLeft);
        assert_eq!(Corner::nearest(2000.0, -5.0, w, h), Corner::TopRight);
    }

    #[test]
    fn arrow_keys_move_the_tile_one_side_at_a_time_and_other_keys_do_nothing() {
        let start = Corner::default();
        assert_eq!(start, Corner::BottomRight);
        assert_eq!(start.moved("ArrowUp"), Some(Corner::TopRight));
        assert_eq!(start.moved("ArrowLeft"), Some(Corner::BottomLeft));
        assert_eq!(start.moved("ArrowDown"), None, "already at the bottom");
        assert_eq!(start.moved("ArrowRight"), None, "already at the right");
        assert_eq!(Corner::TopLeft.moved("ArrowDown"), Some(Corner::BottomLeft));
        assert_eq!(Corner::TopLeft.moved("ArrowRight"), Some(Corner::TopRight));
        for key in ["Enter", " ", "m", "Tab"] {
            assert_eq!(start.moved(key), None, "{key}");
        }
    }

    #[test]
    fn the_tile_says_where_it_is_and_how_to_move_it() {
        assert_eq!(Corner::TopLeft.hook(), "top-left");
        assert_eq!(
            Corner::BottomRight.label(),
            "Your video, in the bottom right corner. Drag it, or use the arrow keys, to move it."
        );
    }
}
